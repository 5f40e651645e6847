// The evidence log: append-only and hash-chained. Each entry's hash covers the previous
// hash and the entry itself, so editing, removing or reordering any row breaks the chain
// from that row on, and `stablerail evidence verify` names the first broken link.
import type { AnyTx, Pool } from './db.js';
import { typedRows } from './db.js';
import { evidenceAppend } from './repositories/sql/evidenceAppend.js';
import { evidenceBatch } from './repositories/sql/evidenceBatch.js';
import { evidenceOfSubject } from './repositories/sql/evidenceOfSubject.js';
import { evidenceLockHead } from './repositories/sql/evidenceLockHead.js';
import { canonicalJson, sha256Hex } from './ids.js';

export const GENESIS_HASH = '0'.repeat(64);
// One chain, one writer at a time: appends serialize on this transaction-scoped lock.
const EVIDENCE_LOCK_KEY = 0x5354_4556; // "STEV"
export const VERIFY_BATCH_ROWS = 5_000;

export interface EvidenceEntry {
  kind: string;
  subject: string;
  actor: string;
  payload: Record<string, unknown>;
  /** Makes an append idempotent: an activity retry finds its own entry instead of adding one. */
  dedupeKey: string;
}

export interface EvidenceRow extends EvidenceEntry {
  seq: string;
  prevHash: string;
  hash: string;
  createdAt: string;
}

export function evidenceHash(prevHash: string, e: EvidenceEntry & { seq: string; createdAt: string }): string {
  return sha256Hex(
    `${prevHash}\n${canonicalJson({
      seq: e.seq,
      kind: e.kind,
      subject: e.subject,
      actor: e.actor,
      payload: e.payload,
      dedupe_key: e.dedupeKey,
      created_at: e.createdAt,
    })}`,
  );
}

/**
 * Append inside the caller's transaction, so the entry commits or vanishes with the change it
 * proves. The statements are prisma/sql/evidence{LockHead,Append}.sql on either kind of
 * transaction: the workflows' hot transitions hold a pg client, the repositories a Prisma one.
 */
export async function appendEvidence(c: AnyTx, e: EvidenceEntry): Promise<{ seq: string; hash: string; inserted: boolean }> {
  // Named (prepared once per pg connection): every payment transition appends here, and parse and
  // plan time spent while the chain's lock is held delays every other writer (docs/benchmarks.md).
  // The lock and the head in one round trip (a function: the head is read after the lock is granted).
  const head = await typedRows(c, evidenceLockHead(EVIDENCE_LOCK_KEY, e.dedupeKey), 'evidence_lock_head');
  const dup = head.find((r) => r.dup);
  if (dup) return { seq: dup.seq!, hash: dup.hash!, inserted: false };
  const prev = head.find((r) => !r.dup);
  const seq = prev ? (BigInt(prev.seq!) + 1n).toString() : '1';
  const prevHash = prev?.hash ?? GENESIS_HASH;
  const createdAt = new Date().toISOString();
  // Hash exactly what is stored: the payload as JSON gives it back (a Date as its ISO string, an
  // undefined in an array as null, an object by its toJSON), which is what a verifier reads.
  // Hashing the object as given once sealed a Date as {} and broke the chain for every verifier.
  const stored = JSON.stringify(e.payload);
  const hash = evidenceHash(prevHash, { ...e, payload: JSON.parse(stored) as Record<string, unknown>, seq, createdAt });
  await typedRows(c, evidenceAppend(seq, e.kind, e.subject, e.actor, stored, e.dedupeKey, prevHash, hash, createdAt), 'evidence_append');
  return { seq, hash, inserted: true };
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  headHash: string;
  firstBroken?: { seq: string; reason: string };
  /** The seq the next entry must have (when ok): where a later pass can resume. */
  nextSeq?: string;
}

/** Where an earlier pass stopped: the next entry expected and the hash it must link to. */
export interface EvidenceCheckpoint {
  nextSeq: string;
  prevHash: string;
}

/**
 * Walk the chain in bounded batches and report the first link that does not hold: from its
 * start, or only the entries after `from` (a checkpoint of an earlier pass).
 */
export async function verifyEvidence(pool: Pool, onProgress?: (checked: number) => void, from?: EvidenceCheckpoint): Promise<VerifyResult> {
  let prevHash = from?.prevHash ?? GENESIS_HASH;
  let expectedSeq = BigInt(from?.nextSeq ?? 1);
  let checked = 0;
  for (;;) {
    // Over pg (typedRows on the pool): the payload is hashed as node-postgres parses it, as it always was.
    const rows = await typedRows(pool, evidenceBatch(expectedSeq.toString(), VERIFY_BATCH_ROWS));
    if (rows.length === 0) return { ok: true, checked, headHash: prevHash, nextSeq: expectedSeq.toString() };
    for (const r of rows) {
      const fail = (reason: string): VerifyResult => ({ ok: false, checked, headHash: prevHash, firstBroken: { seq: r.seq!, reason } });
      if (BigInt(r.seq!) !== expectedSeq) return fail(`missing entry: expected seq ${expectedSeq}, found ${r.seq}`);
      if (r.prev_hash !== prevHash) return fail('prev_hash does not match the previous entry');
      const recomputed = evidenceHash(prevHash, {
        seq: r.seq!,
        kind: r.kind,
        subject: r.subject,
        actor: r.actor,
        payload: r.payload as Record<string, unknown>,
        dedupeKey: r.dedupe_key,
        createdAt: r.created_at!,
      });
      if (recomputed !== r.hash) return fail('hash does not match the entry content');
      prevHash = r.hash;
      expectedSeq += 1n;
      checked += 1;
    }
    onProgress?.(checked);
  }
}

export async function evidenceForSubject(pool: Pool, subject: string): Promise<EvidenceRow[]> {
  const rows = await typedRows(pool, evidenceOfSubject(subject));
  return rows.map((r) => ({
    seq: r.seq!,
    kind: r.kind,
    subject: r.subject,
    actor: r.actor,
    payload: r.payload as Record<string, unknown>,
    dedupeKey: r.dedupe_key,
    prevHash: r.prev_hash,
    hash: r.hash,
    createdAt: r.created_at!,
  }));
}
