// Keyset paging, newest first, on (created_at, id): the lists the API serves each have an index
// in that order, so a page costs an index range scan however deep the client pages.

export interface PageCursor {
  createdAt: Date;
  id: string;
}

/** Rows strictly after the cursor in (created_at DESC, id DESC) order; no condition without one. */
export function after(cursor: PageCursor | null) {
  return cursor ? { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] } : {};
}

export const NEWEST_FIRST: Array<{ createdAt: 'desc' } | { id: 'desc' }> = [{ createdAt: 'desc' }, { id: 'desc' }];
