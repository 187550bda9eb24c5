/**
 * Join the contact address only when a reader asks for it, so the page
 * never carries a whole address for scrapers to harvest.
 */
const SELECTOR = ".contact-email";

for (const box of document.querySelectorAll(SELECTOR)) {
  const button = box.querySelector(".contact-show");
  const spelled = box.querySelector(".contact-spelled");
  if (!button || !spelled) continue;
  button.hidden = false;
  button.addEventListener("click", () => {
    const address = `${box.dataset.user}@${box.dataset.domain}`;
    const link = document.createElement("a");
    link.href = `mailto:${address}`;
    link.textContent = address;
    spelled.replaceChildren(link);
    button.remove();
    link.focus();
  });
}
