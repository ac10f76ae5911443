import { askForKey, authHeaders } from './api-key.js';
import { EventList } from './event-list.js';
import { followFeed } from './feed-client.js';
import { renderCharts, renderStatus, renderUnavailable } from './status-view.js';

const POLL_MS = 2000;
const events = new EventList();
const feedState = document.getElementById('feed-state');
const windowSelect = document.getElementById('window');

followFeed({
  onEvent: (event) => events.add(event),
  onTruncated: () => events.markGap(),
  onState: (state, text) => {
    feedState.dataset.state = state;
    feedState.textContent = text;
  },
});

/** One /status poll; a relay without /status (404) still shows the live feed. */
async function poll() {
  try {
    const res = await fetch(`/status?since=${encodeURIComponent(windowSelect.value)}`, { headers: authHeaders(), cache: 'no-store' });
    if (res.status === 401) {
      renderUnavailable('API key needed');
      await askForKey();
      return;
    }
    if (!res.ok) return renderUnavailable(res.status === 404 ? 'status unavailable' : `status failed (HTTP ${res.status})`);
    renderStatus(await res.json());
  } catch {
    renderUnavailable('relay unreachable');
  }
}

async function pollForever() {
  for (;;) {
    await poll();
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

windowSelect.addEventListener('change', () => void poll());
window.addEventListener('resize', () => renderCharts());
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => renderCharts());
renderCharts({ bucketS: 60, points: [] });
void pollForever();
