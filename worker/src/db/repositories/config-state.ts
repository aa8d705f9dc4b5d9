/**
 * The declared config's rows: the single `config_state` row and the reads and writes the
 * sync (declared/) needs. Writes are returned as batch items so the sync can put a whole
 * apply into one D1 batch.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../client.js";
import { configState, connections, destinations, environments, memberships, organizations, sources, users } from "../schema/index.js";
import type { ConnectionRow } from "./connections.js";
import type { DestinationRow } from "./destinations.js";
import type { SourceRow } from "./sources.js";

export type ConfigStateRow = typeof configState.$inferSelect;
type Batch = BatchItem<"sqlite">;

const STATE_ID = 1;

export async function readConfigState(db: Database): Promise<ConfigStateRow | null> {
  return (await db.select().from(configState).where(eq(configState.id, STATE_ID)).get()) ?? null;
}

/** Records what happened to the config in the bindings, keeping what is applied. */
export function recordAttempt(db: Database, attempt: Pick<ConfigStateRow, "last_hash" | "last_status" | "last_issues" | "last_attempt_at">): Batch {
  return db
    .insert(configState)
    .values({ id: STATE_ID, ...attempt })
    .onConflictDoUpdate({ target: configState.id, set: attempt });
}

export function recordApplied(db: Database, state: Pick<ConfigStateRow, "applied_hash" | "applied_at" | "org_id" | "env_id" | "owners">): Batch {
  const set = { ...state, last_hash: state.applied_hash, last_status: "applied" as const, last_issues: null, last_attempt_at: state.applied_at };
  return db.insert(configState).values({ id: STATE_ID, ...set }).onConflictDoUpdate({ target: configState.id, set });
}

export interface ManagedRows {
  sources: SourceRow[];
  destinations: DestinationRow[];
  connections: Pick<ConnectionRow, "id" | "source_id" | "destination_id">[];
}

/** Every row the config manages, in any project (a renamed project leaves its old rows to remove). */
export async function managedRows(db: Database): Promise<ManagedRows> {
  const [s, d, c] = await db.batch([
    db.select().from(sources).where(eq(sources.managed_by, "config")),
    db.select().from(destinations).where(eq(destinations.managed_by, "config")),
    db.select({ id: connections.id, source_id: connections.source_id, destination_id: connections.destination_id }).from(connections).where(eq(connections.managed_by, "config")),
  ]);
  return { sources: s, destinations: d, connections: c };
}

export function upsertOrganization(db: Database, org: { id: string; name: string; created_at: number }, env: { id: string; name: string; created_at: number }): Batch[] {
  return [
    db.insert(organizations).values(org).onConflictDoUpdate({ target: organizations.id, set: { name: org.name } }),
    db.insert(environments).values({ ...env, org_id: org.id }).onConflictDoUpdate({ target: environments.id, set: { name: env.name } }),
  ];
}

/** Ids of existing users with these (lower-case) emails. */
export async function usersByEmail(db: Database, emails: readonly string[]): Promise<string[]> {
  if (emails.length === 0) return [];
  const rows = await db.select({ id: users.id }).from(users).where(inArray(sql`lower(${users.email})`, [...emails]));
  return rows.map((r) => r.id);
}

/** These users become owners of the org (a member is promoted). */
export function ownerMemberships(db: Database, orgId: string, userIds: readonly string[], now: number, newId: () => string): Batch[] {
  return userIds.map((userId) => joinAsOwner(db, orgId, userId, newId(), now));
}

export function upsertSource(db: Database, row: SourceRow): Batch {
  const { id, created_at, ...set } = row;
  return db.insert(sources).values(row).onConflictDoUpdate({ target: sources.id, set });
}

export function upsertDestination(db: Database, row: DestinationRow): Batch {
  const { id, created_at, type, ...set } = row;
  // The type is part of what a scheduler holds; a declared type change is a new row in all but id.
  return db.insert(destinations).values(row).onConflictDoUpdate({ target: destinations.id, set: { ...set, type } });
}

export function upsertConnection(db: Database, row: ConnectionRow): Batch {
  const { id, created_at, ...set } = row;
  return db.insert(connections).values(row).onConflictDoUpdate({ target: connections.id, set });
}

/**
 * Removes declared rows no longer declared: connections first (managed ones, and any API
 * connection on a removed source or to a removed destination), then destinations, then
 * sources. Events, deliveries and attempts stay.
 */
export function removeDeclared(db: Database, ids: { connections: string[]; sources: string[]; destinations: string[] }): Batch[] {
  const out: Batch[] = [];
  for (const id of ids.connections) out.push(db.delete(connections).where(eq(connections.id, id)));
  for (const id of ids.sources) out.push(db.delete(connections).where(eq(connections.source_id, id)));
  for (const id of ids.destinations) out.push(db.delete(connections).where(eq(connections.destination_id, id)));
  for (const id of ids.destinations) out.push(db.delete(destinations).where(and(eq(destinations.id, id), eq(destinations.managed_by, "config"))));
  for (const id of ids.sources) out.push(db.delete(sources).where(and(eq(sources.id, id), eq(sources.managed_by, "config"))));
  return out;
}

/** The declared org a signing-up owner joins, if any. */
export async function declaredOrgForOwner(db: Database, email: string): Promise<{ org_id: string; env_id: string } | null> {
  const state = await readConfigState(db).catch(() => null);
  if (!state?.org_id || !state.env_id || !state.owners) return null;
  const owners = JSON.parse(state.owners) as string[];
  return owners.includes(email.toLowerCase()) ? { org_id: state.org_id, env_id: state.env_id } : null;
}

export function joinAsOwner(db: Database, orgId: string, userId: string, id: string, now: number): Batch {
  return db.insert(memberships).values({ id, org_id: orgId, user_id: userId, role: "owner", created_at: now })
    .onConflictDoUpdate({ target: [memberships.org_id, memberships.user_id], set: { role: "owner" } });
}

