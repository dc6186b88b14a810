/** The version of the Task Execution Protocol this package speaks. */
export const PROTOCOL_VERSION = "1.0.0";

/** Versions we accept on incoming messages: the same major version. */
export const SUPPORTED_PROTOCOL_VERSION = /^1\.\d+\.\d+$/;
