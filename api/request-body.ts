// Pure rules for what the edge accepts in a request, before anything reaches a handler:
// the media type and content coding of a body, JSON objects without repeated keys, and no
// NUL character in any string (PostgreSQL text cannot hold one, so it would fail as a 500
// after the Idempotency-Key was claimed).

/** Content codings body-parser can undo (zstd needs a newer Node than the one we promise). */
export const CONTENT_ENCODINGS = ['identity', 'gzip', 'deflate', 'br'] as const;

/** Why a Content-Type cannot carry a request body, or null when it is JSON in UTF-8. */
export function contentTypeProblem(header: string | undefined): string | null {
  if (!header) return 'A request body needs Content-Type: application/json';
  const [type, ...params] = header.split(';');
  if (type!.trim().toLowerCase() !== 'application/json') return `Content-Type ${type!.trim()} is not accepted; send application/json`;
  for (const p of params) {
    const [name, value] = p.split('=').map((s) => s.trim().toLowerCase());
    if (name === 'charset' && value?.replace(/^"|"$/g, '') !== 'utf-8') return `charset ${value} is not accepted; JSON is UTF-8`;
  }
  return null;
}

/** Why a Content-Encoding cannot be undone, or null when it can. One coding only, no chains. */
export function contentEncodingProblem(header: string | undefined): string | null {
  if (header === undefined) return null;
  const enc = header.trim().toLowerCase();
  return (CONTENT_ENCODINGS as readonly string[]).includes(enc) ? null : `Content-Encoding ${header.trim()} is not supported; use one of ${CONTENT_ENCODINGS.join(', ')}`;
}

/**
 * The dotted path of the first key an object repeats, or null. JSON.parse lets the last
 * repetition win silently, so a body that says two things is refused instead. The text must
 * already be valid JSON (the caller parsed it first), which keeps this scanner small.
 */
export function duplicateKeyPath(text: string): string | null {
  type Frame = { keys: Set<string> | null; path: string; expectKey: boolean; lastKey: string; index: number };
  const stack: Frame[] = [];
  const childPath = (f: Frame | undefined): string => {
    if (!f) return '';
    const part = f.keys ? f.lastKey : String(f.index);
    return f.path ? `${f.path}.${part}` : part;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') {
      stack.push({ keys: c === '{' ? new Set() : null, path: childPath(stack.at(-1)), expectKey: c === '{', lastKey: '', index: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack.at(-1)!;
      if (top.keys) top.expectKey = true;
      else top.index++;
    } else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return top.path ? `${top.path}.${key}` : key;
        top.keys.add(key);
        top.lastKey = key;
        top.expectKey = false;
      }
      i = j;
    }
  }
  return null;
}

/**
 * What PostgreSQL text cannot hold as sent: a NUL (it refuses it, a 500) or an unpaired UTF-16
 * surrogate (JSON allows "\ud800"; UTF-8 cannot encode it, so it would be stored as U+FFFD and
 * a later search by the value sent would miss it). In Unicode mode \p{Cs} matches only unpaired ones.
 */
export function unstorable(s: string): string | null {
  if (s.includes('\u0000')) return 'a NUL character';
  if (/\p{Cs}/u.test(s)) return 'an unpaired UTF-16 surrogate';
  return null;
}

/** The dotted path of the first string (object keys included) that cannot be stored as sent, and why; or null. */
export function unstorablePath(value: unknown, path = ''): { path: string; what: string } | null {
  const at = (k: string) => (path ? `${path}.${k}` : k);
  if (typeof value === 'string') {
    const what = unstorable(value);
    return what ? { path: path || 'body', what } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = unstorablePath(value[i], at(String(i)));
      if (p) return p;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const what = unstorable(k);
      if (what) return { path: at(JSON.stringify(k).slice(1, -1)), what };
      const p = unstorablePath(v, at(k));
      if (p) return p;
    }
  }
  return null;
}

/** Whether every percent-escape in a URL part is well formed and decodes to UTF-8. */
export function decodableUrlPart(part: string): boolean {
  try {
    decodeURIComponent(part.replace(/\+/g, ' '));
    return true;
  } catch {
    return false;
  }
}
