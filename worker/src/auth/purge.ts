import { schedulerFor } from "../delivery/enqueue.js";
import type { Database } from "../db/client.js";
import { deleteEnvironments, deleteOrganization, destinationIdsOf } from "../db/repositories/tenancy.js";
import type { Env } from "../env.js";
import { invalidateSourceRouting } from "../ingest/source-cache.js";
import { forgetKeys } from "../api/auth.js";

/**
 * After the D1 rows are gone (one batch): the schedulers of the deleted destinations drop
 * their queues (nothing keeps delivering), and the event bodies in R2 are deleted.
 */
async function cleanUp(env: Env, orgId: string, envIds: string[], destinationIds: string[]): Promise<void> {
  invalidateSourceRouting();
  forgetKeys();
  await Promise.all(destinationIds.map((id) => schedulerFor(env, id).purge()));
  for (const envId of envIds) await deleteR2Prefix(env.BODIES, `events/${orgId}/${envId}/`);
}

export async function deleteR2Prefix(bucket: R2Bucket, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor, limit: 1000 });
    const keys = page.objects.map((o) => o.key);
    if (keys.length > 0) {
      await bucket.delete(keys);
      deleted += keys.length;
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return deleted;
}

/** Deletes a project and everything under it. False when it does not exist in this org. */
export async function deleteProject(env: Env, db: Database, orgId: string, envId: string): Promise<boolean> {
  const destinationIds = await destinationIdsOf(db, orgId, [envId]);
  if ((await deleteEnvironments(db, orgId, [envId])) === 0) return false;
  await cleanUp(env, orgId, [envId], destinationIds);
  return true;
}

/** Deletes an organization: its projects (as above), members, invitations and the org itself. */
export async function deleteOrganizationEverywhere(env: Env, db: Database, orgId: string, envIds: string[]): Promise<void> {
  const destinationIds = await destinationIdsOf(db, orgId, envIds);
  await deleteOrganization(db, orgId);
  await cleanUp(env, orgId, envIds, destinationIds);
}
