// The page talks to the server only through the JSON API (see /docs).

export const $ = (id) => document.getElementById(id);

// JSON in, JSON out; a non-2xx answer throws an Error carrying the server's one-line message.
export async function api(path, body, options = {}) {
  const init = { ...options };
  if (body !== undefined) {
    init.method = "POST";
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) throw new Error(await errorMessage(response));
  return response.json();
}

export async function errorMessage(response) {
  try {
    const data = await response.json();
    return data.error || `${response.status} ${response.statusText}`;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

// Call fn at most once per `ms` of quiet: typing fires one request, not one per key.
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function showError(id, error) {
  $(id).textContent = error ? String(error.message || error) : "";
}

// Fill a <select> with the runs of one task, keeping the current choice when it is still there.
export function fillRunSelect(select, runs, task) {
  const current = select.value;
  const names = runs.filter((r) => r.task === task).map((r) => r.name);
  select.replaceChildren(...names.map((n) => new Option(n, n)));
  if (names.includes(current)) select.value = current;
  return names;
}
