/**
 * Quick exit: leave this site for a neutral one at once.
 *
 * Without JavaScript "Exit this page" is a plain link (rel="noreferrer").
 * This module makes it, and Escape pressed twice anywhere on the page,
 * replace the current history entry (location.replace), so that Back does
 * not return to the page the reader left. It cannot clear the history of
 * pages visited before; the preferences page says so.
 */

const LINK_SELECTOR = "a[data-quick-exit]";
export const KEY = "Escape";
// Two presses within this time count as "leave"; one press is left to the
// page (closing things, leaving a field).
export const PRESS_WINDOW_MS = 1500;

/**
 * Leave for `url`: the page goes blank first, then the site is replaced.
 * @param {string} url
 */
export function leave(url) {
  document.documentElement.classList.add("quick-exit-leaving");
  window.location.replace(url);
}

const link = document.querySelector(LINK_SELECTOR);
if (link) {
  link.addEventListener("click", (event) => {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    leave(link.href);
  });
  let lastPress = -Infinity;
  document.addEventListener("keydown", (event) => {
    if (event.key !== KEY || event.repeat) return;
    const now = performance.now();
    if (now - lastPress <= PRESS_WINDOW_MS) {
      leave(link.href);
    } else {
      lastPress = now;
    }
  });
}
