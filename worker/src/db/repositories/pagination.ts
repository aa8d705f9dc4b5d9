export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface PageQuery {
  cursor?: string | undefined;
  limit: number;
}

/** Lists are newest first by id (ids are time-sortable); the cursor is the last id returned. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const more = rows.length > limit;
  const data = more ? rows.slice(0, limit) : rows;
  return { data, next_cursor: more ? (data[data.length - 1]?.id ?? null) : null };
}
