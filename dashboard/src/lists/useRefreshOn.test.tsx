import { afterEach, describe, expect, it } from "vitest";
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { publish, type LiveEvent } from "../events/bus";
import { useRefreshOn } from "./useRefreshOn";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let root: Root | null = null;
afterEach(() => act(() => root?.unmount()));

const ev = (type: string): LiveEvent => ({ type, organization_id: "o", id: "x", at: new Date().toISOString(), data: {} });
const wait = (ms: number) => act(() => new Promise((r) => setTimeout(r, ms)));

function Probe({ types, onReload }: { types: string[]; onReload: () => void }) {
  useRefreshOn(types, onReload, 30);
  return null;
}

describe("useRefreshOn: lists refetch on live events", () => {
  it("refetches once per burst of its event types, never for others, and stops when unmounted", async () => {
    let reloads = 0;
    root = createRoot(document.createElement("div"));
    await act(async () => root!.render(<Probe types={["task.updated", "execution.updated"]} onReload={() => reloads++} />));
    act(() => {
      publish(ev("task.updated"));
      publish(ev("execution.updated"));
      publish(ev("task.updated"));
    });
    expect(reloads).toBe(0); // debounced
    await wait(80);
    expect(reloads).toBe(1);
    act(() => publish(ev("worker.updated")));
    await wait(80);
    expect(reloads).toBe(1);
    act(() => root!.unmount());
    root = null;
    act(() => publish(ev("task.updated")));
    await wait(80);
    expect(reloads).toBe(1);
  });
});
