import { MemoryStatusBus } from "../../src/transport/memory/memory-status-bus.js";
import { describeStatusBusContract } from "./status-bus.contract.js";

describeStatusBusContract("memory", async () => ({
  bus: new MemoryStatusBus(),
  settle: async () => {},
  cleanup: async () => {},
}));
