// Waiting out a burst of keystrokes without outliving the request that asked.

export interface Disposable {
  dispose(): unknown;
}

/** The part of VS Code's CancellationToken the wait needs. */
export interface CancellationLike {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => unknown): Disposable;
}

/**
 * Wait `ms` milliseconds. Resolves true when the wait ran out, false as soon as the token is
 * cancelled (VS Code cancels the request when the user types on). Nothing is left behind
 * either way: no timer, no listener.
 */
export function settle(ms: number, token: CancellationLike): Promise<boolean> {
  if (token.isCancellationRequested) {
    return Promise.resolve(false);
  }
  if (ms <= 0) {
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    let listener: Disposable | undefined;
    const finish = (waited: boolean) => {
      clearTimeout(timer);
      listener?.dispose();
      resolve(waited);
    };
    const timer = setTimeout(() => finish(true), ms);
    listener = token.onCancellationRequested(() => finish(false));
  });
}
