// Errors in people's words: a request that never reached the server says so (not the raw
// "Failed to fetch"), and the API's statuses the console knows get a short sentence. An
// unknown refusal keeps the API's own `message`, which is meant for people.
import { ApiError } from "./api.js";

const BY_STATUS = {
  401: "Your sign-in has expired: sign out and in again.",
  403: "You may not do that here.",
  404: "That is gone (deleted, or you were removed).",
  429: "Too many requests at once: wait a moment and try again.",
};

export function isOffline(error) {
  return !(error instanceof ApiError);
}

// `action` names what failed ("Not sent"), `kept` is added when the typed text stays.
export function describe(error, { action = "Not done", kept = false, known = {} } = {}) {
  if (isOffline(error)) {
    const why = navigator.onLine === false ? "you are offline" : "the server could not be reached";
    return `${action}: ${why}${kept ? " — it stays in the box" : ""}.`;
  }
  const sentence = known[error.status] || BY_STATUS[error.status];
  return sentence || error.message;
}
