import { askForKey, authHeaders } from './api-key.js';
import { opensEvents } from './event-drawer.js';
import { EventList } from './event-list.js';
import { initEventSearch } from './event-search.js';
import { followFeed } from './feed-client.js';
import { initGroupsPanel, refreshGroups } from './groups-panel.js';
import { renderCharts, renderStatus, renderUnavailable } from './status-view.js';
import { currentView, followViews } from './views.js';

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

/** One /status poll (again at once with the key a 401 asked for); a relay without /status (404) still shows the live feed. */
async function poll() {
  try {
    const res = await fetch(`/status?since=${encodeURIComponent(windowSelect.value)}`, { headers: authHeaders(), cache: 'no-store' });
    if (res.status === 401) {
      renderUnavailable('API key needed');
      await askForKey();
      return poll();
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
    if (currentView() === 'groups') await refreshGroups();
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

initEventSearch();
initGroupsPanel();
opensEvents(document.getElementById('events'));
followViews((view) => {
  if (view === 'groups') void refreshGroups();
  if (view === 'overview') renderCharts();
});
windowSelect.addEventListener('change', () => void poll());
window.addEventListener('resize', () => renderCharts());
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => renderCharts());
renderCharts({ bucketS: 60, points: [] });
void pollForever();
