import { $ } from './dom.js';

const VIEWS = ['overview', 'events', 'groups'];

/** The view the address names (`#events`, `#groups`), else the overview. */
export function currentView() {
  const name = location.hash.slice(1);
  return VIEWS.includes(name) ? name : 'overview';
}

/** Shows the view the address names and marks its tab; `onShow(name)` runs after each switch. */
export function followViews(onShow) {
  const show = () => {
    const current = currentView();
    for (const name of VIEWS) {
      $(`view-${name}`).hidden = name !== current;
      const tab = $(`tab-${name}`);
      if (name === current) tab.setAttribute('aria-current', 'page');
      else tab.removeAttribute('aria-current');
    }
    onShow(current);
  };
  window.addEventListener('hashchange', show);
  show();
}
