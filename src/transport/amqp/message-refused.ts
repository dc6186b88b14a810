/**
 * A message heard on the broker and refused (not signed by whom it must be, not what its queue
 * carries): it was dead-lettered with `reason` and changed nothing. Its readers' `onError` get
 * one, so that a process counts them (`taskexec_broker_messages_refused_total`) as well as logs them.
 */
export class MessageRefused extends Error {
  constructor(
    /** Where it came from: `taskexec.status`, `taskexec.resources` (exchanges) or `taskexec.tasks`. */
    readonly from: string,
    readonly reason: string,
  ) {
    super(`a message from ${from} was refused: ${reason}`);
    this.name = "MessageRefused";
  }
}
