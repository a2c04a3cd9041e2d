// The signed-in token: in sessionStorage only (gone when the tab closes, never in localStorage,
// a cookie or a URL), so no cache, history entry or Referer carries it.

const KEY = "waystation.dashboard.token";

export function readToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
