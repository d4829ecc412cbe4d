import { describe, expect, it } from "vitest";
import { parseEvent, wsURL } from "./live";

describe("wsURL", () => {
  it("puts the events WebSocket on the page's origin for a relative API base", () => {
    expect(wsURL("/api/v1", "mt_a+b", { protocol: "https:", host: "miyabi.example.com" })).toBe(
      "wss://miyabi.example.com/api/v1/events?ticket=mt_a%2Bb",
    );
    expect(wsURL("/api/v1/", "t", { protocol: "http:", host: "127.0.0.1:8080" })).toBe("ws://127.0.0.1:8080/api/v1/events?ticket=t");
  });
  it("keeps an absolute API base's host", () => {
    expect(wsURL("https://api.example.com/api/v1", "t", { protocol: "https:", host: "x" })).toBe("wss://api.example.com/api/v1/events?ticket=t");
  });
});

describe("parseEvent", () => {
  it("reads an event and refuses anything else", () => {
    const ev = parseEvent('{"type":"execution.updated","organization_id":"o","id":"e","at":"t","data":{"status":"running"}}');
    expect(ev?.type).toBe("execution.updated");
    expect(ev?.data.status).toBe("running");
    expect(parseEvent("not json")).toBeNull();
    expect(parseEvent('{"id":"x"}')).toBeNull();
    expect(parseEvent(new ArrayBuffer(2))).toBeNull();
  });
});
