import { describe, expect, it } from "vitest";
import { readNotice } from "../../../src/transport/postgres/postgres-status-feed.js";

describe("readNotice (the payload update_tasks.sql and insert_tasks.sql notify)", () => {
  it("reads the statuses another node wrote", () => {
    expect(readNotice("vm:12:ab t-1:1,t-2:3", "vm:99:cd")).toEqual([
      ["t-1", 1],
      ["t-2", 3],
    ]);
    expect(readNotice("vm:12:ab t-1:7", "vm:99:cd")).toEqual([["t-1", 7]]);
  });

  it("skips this node's own notices and ones it cannot read", () => {
    expect(readNotice("vm:99:cd t-1:1", "vm:99:cd")).toBeUndefined();
    expect(readNotice("garbage", "vm:99:cd")).toBeUndefined();
    expect(readNotice("vm:12:ab t-1:x,t-2:2", "vm:99:cd")).toEqual([["t-2", 2]]);
  });
});
