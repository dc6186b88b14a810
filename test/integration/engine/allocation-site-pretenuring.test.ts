import v8 from "node:v8";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Harness, startExecutor } from "../../helpers/executor.js";

let h: Harness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.cleanup();
  h = undefined;
});

describe("allocation_site_pretenuring (a process-wide V8 flag)", () => {
  it("is turned off when an executor is created with the defaults", async () => {
    const setFlags = vi.spyOn(v8, "setFlagsFromString");
    h = await startExecutor({}, false);
    expect(setFlags).toHaveBeenCalledWith("--no-allocation-site-pretenuring");
  });

  it("is left as V8 has it when the option is true", async () => {
    const setFlags = vi.spyOn(v8, "setFlagsFromString");
    h = await startExecutor({ allocation_site_pretenuring: true }, false);
    expect(setFlags).not.toHaveBeenCalled();
  });

  it("refuses a value that is not a boolean, naming the key", async () => {
    await expect(
      startExecutor({ allocation_site_pretenuring: "no" as unknown as boolean }, false),
    ).rejects.toThrow(/allocation_site_pretenuring/);
  });
});
