import { describe, expect, it } from "vitest";
import { nextEdge } from "./definition";

describe("Add edge", () => {
  it("starts from the first pair that is not an edge yet, never a copy", () => {
    expect(nextEdge(["a", "b", "c"], [])).toEqual({ from: "a", to: "b" });
    expect(nextEdge(["a", "b", "c"], [{ from: "a", to: "b" }])).toEqual({ from: "a", to: "c" });
    expect(nextEdge(["a", "b"], [{ from: "a", to: "b" }])).toEqual({ from: "", to: "" });
  });
});
