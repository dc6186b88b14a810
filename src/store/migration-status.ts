/** One migration of a store's schema, and when it was applied (undefined: not yet). */
export interface MigrationStatus {
  name: string;
  executedAt: Date | undefined;
}

/** A migration recorded as applied in a store (perhaps one this version does not know). */
export interface AppliedMigration {
  name: string;
  appliedAt: Date;
}

/** Where to take a schema: one step up or down, all the way up, or to a named migration (undefined: none). */
export type MigrationTarget = "latest" | "up" | "down" | { to: string | undefined };

/** Migrations a store ran by itself when it opened: from which one (undefined: an empty store), and which. */
export interface MigrationProgress {
  from: string | undefined;
  applied: readonly string[];
}
