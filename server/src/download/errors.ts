/** The download's own failures: messages meant for the user, with the Hub's refusal status when there is one. */
export class DownloadError extends Error {
  /** The Hub's HTTP status when it refused (401, 403, 404), for clients that offer a fix. */
  constructor(
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}
