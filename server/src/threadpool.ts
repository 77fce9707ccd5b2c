/**
 * libuv runs every fs call (stat, open, read) on a thread pool of 4 threads unless
 * UV_THREADPOOL_SIZE is set before the pool first starts. On network storage each call holds a
 * thread for a whole round trip, so 4 threads would mean at most 4 requests in flight however
 * many files the pool reads at once. Imported first by every entry point; a value the user set
 * is kept (libuv caps it at 1024).
 */
export const IO_THREADS = 128;

/** Whether the user sized the pool (UV_THREADPOOL_SIZE set before this ran): nothing changes it then. */
export const IO_THREADS_CHOSEN_BY_USER = !!process.env.UV_THREADPOOL_SIZE;

process.env.UV_THREADPOOL_SIZE ||= String(IO_THREADS);
