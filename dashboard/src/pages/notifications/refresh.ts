import type { Schema } from "../../api/types";

type Delivery = Pick<Schema<"NotificationDeliveryOut">, "id" | "status" | "attempts" | "next_attempt_at">;

/** While an attempt is in flight, the log is read again this soon at first. */
export const IN_FLIGHT_MS = 1500;
/** Reads that find nothing changed back off, doubling, up to this. */
export const MAX_WAIT_MS = 30_000;
/** A retry due further away than this is left to the Refresh button. */
export const SOON_MS = 60_000;

/**
 * When the delivery log should read itself again, in milliseconds from now, or null
 * when nothing on it is about to change. An attempt in flight (another deliverer may
 * hold it: the API after commit, the sweep) settles within seconds; a retry due soon is
 * read just after it is due. `unchanged` counts the reads in a row that found the log as
 * it was: each one doubles the wait (up to MAX_WAIT_MS), so a delivery stuck in flight
 * or overdue (on Lambda, the sweep takes it within a minute) is not read every 1.5 s.
 */
export function nextRefreshIn(items: readonly Delivery[], now: number, unchanged = 0): number | null {
  let next: number | null = null;
  for (const d of items) {
    let wait: number | null = null;
    if (d.status === "delivering") wait = IN_FLIGHT_MS;
    else if (d.status === "pending" && d.next_attempt_at) {
      const due = Date.parse(d.next_attempt_at) - now;
      if (due <= SOON_MS) wait = Math.max(IN_FLIGHT_MS, due + 1000);
    }
    if (wait !== null && (next === null || wait < next)) next = wait;
  }
  if (next === null) return null;
  return Math.min(Math.max(next, IN_FLIGHT_MS * 2 ** Math.min(unchanged, 10)), Math.max(next, MAX_WAIT_MS));
}

/** What a read of the log is compared by: a new attempt or status is a change. */
export function fingerprint(items: readonly Delivery[]): string {
  return items.map((d) => `${d.id}:${d.status}:${d.attempts}`).join(",");
}
