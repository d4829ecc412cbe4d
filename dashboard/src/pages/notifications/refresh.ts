import type { Schema } from "../../api/types";

type Delivery = Pick<Schema<"NotificationDeliveryOut">, "status" | "next_attempt_at">;

/** While an attempt is in flight, the log is read again this often. */
export const IN_FLIGHT_MS = 1500;
/** A retry due further away than this is left to the Refresh button. */
export const SOON_MS = 60_000;

/**
 * When the delivery log should read itself again, in milliseconds from now, or null
 * when nothing on it is about to change. An attempt in flight (another deliverer may
 * hold it: the API after commit, the sweep) settles within seconds; a retry due soon is
 * read just after it is due.
 */
export function nextRefreshIn(items: readonly Delivery[], now: number): number | null {
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
  return next;
}
