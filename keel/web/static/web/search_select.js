/* Keel's search-select (keel/web/search_select.py): a text box that searches as one types.
   htmx fetches the matching options into the list; this script lets one pick one, with the
   mouse or the keyboard (Down/Up move, Enter picks, Escape closes: the ARIA combobox
   pattern), and keeps the chosen record's id in the hidden input. Typing again drops the
   choice until an option is picked; the server refuses typed text that was never picked.
   Listeners sit on the document, so rows added later (formsets, htmx swaps) work as they are. */
(function () {
  'use strict';
  if (window.keelSearchSelect) { return; }  // the script may be included by several forms
  window.keelSearchSelect = true;

  var INPUT = '[data-search-select-input]';

  function parts(element) {
    var root = element && element.closest ? element.closest('[data-search-select]') : null;
    if (!root) { return null; }
    return {
      root: root,
      input: root.querySelector(INPUT),
      value: root.querySelector('[data-search-select-value]'),
      list: root.querySelector('[role=listbox]'),
      status: root.querySelector('[data-search-select-status]')
    };
  }

  function choices(p) {
    return Array.prototype.slice.call(p.list.querySelectorAll('[role=option]:not([aria-disabled=true])'));
  }

  function open(p) {
    p.list.hidden = false;
    p.input.setAttribute('aria-expanded', 'true');
  }

  function close(p) {
    p.list.hidden = true;
    p.input.setAttribute('aria-expanded', 'false');
    p.input.removeAttribute('aria-activedescendant');
  }

  function highlight(p, option) {
    choices(p).forEach(function (other) { other.setAttribute('aria-selected', other === option ? 'true' : 'false'); });
    p.input.setAttribute('aria-activedescendant', option.id);
    if (option.scrollIntoView) { option.scrollIntoView({block: 'nearest'}); }
  }

  function choose(p, option) {
    p.value.value = option.getAttribute('data-value');
    p.input.value = option.getAttribute('data-label');
    p.root.setAttribute('data-chosen-value', p.value.value);
    p.root.setAttribute('data-chosen-label', p.input.value);
    close(p);
    p.status.textContent = p.input.value + ' chosen.';
    p.value.dispatchEvent(new Event('change', {bubbles: true}));
  }

  // The search page reads the text as `q`, whatever the box is called in the form.
  document.addEventListener('htmx:configRequest', function (event) {
    var input = event.detail.elt;
    if (input && input.matches && input.matches(INPUT)) {
      event.detail.parameters = {q: input.value.trim()};
    }
  });

  document.addEventListener('htmx:afterSwap', function (event) {
    var p = parts(event.detail.target);
    if (!p || event.detail.target !== p.list) { return; }
    var found = choices(p);
    found.forEach(function (option, index) { option.id = p.list.id + '-' + index; });
    if (p.list.children.length && document.activeElement === p.input) { open(p); } else { close(p); }
    var notes = p.list.querySelectorAll('[aria-disabled=true]');
    p.status.textContent = found.length
      ? found.length + (found.length === 1 ? ' match' : ' matches') + ': use the arrow keys to choose.'
      : (notes.length ? notes[0].textContent : '');
  });

  document.addEventListener('input', function (event) {
    if (!event.target.matches || !event.target.matches(INPUT)) { return; }
    var p = parts(event.target);
    var same = p.input.value === p.root.getAttribute('data-chosen-label');
    p.value.value = same ? p.root.getAttribute('data-chosen-value') : '';
    if (!p.input.value.trim()) {
      p.list.innerHTML = '';
      close(p);
    }
  });

  document.addEventListener('keydown', function (event) {
    if (!event.target.matches || !event.target.matches(INPUT)) { return; }
    var p = parts(event.target);
    var found = choices(p);
    var current = found.indexOf(p.list.querySelector('[aria-selected=true]'));
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (!found.length) { return; }
      event.preventDefault();
      open(p);
      var next = event.key === 'ArrowDown' ? Math.min(current + 1, found.length - 1) : Math.max(current - 1, 0);
      highlight(p, found[next]);
    } else if (event.key === 'Enter' && !p.list.hidden) {
      event.preventDefault();  // picking, not submitting the form
      if (current >= 0) { choose(p, found[current]); } else if (found.length === 1) { choose(p, found[0]); }
    } else if (event.key === 'Escape' && !p.list.hidden) {
      event.preventDefault();
      close(p);
    }
  });

  // A press on an option keeps the focus in the box, so the list stays until the click picks.
  document.addEventListener('mousedown', function (event) {
    if (event.target.closest && event.target.closest('[data-search-select] [role=listbox]')) { event.preventDefault(); }
  });

  document.addEventListener('click', function (event) {
    var option = event.target.closest ? event.target.closest('[data-search-select] [role=option]') : null;
    if (option && option.getAttribute('aria-disabled') !== 'true') {
      choose(parts(option), option);
    }
  });

  document.addEventListener('focusout', function (event) {
    if (!event.target.matches || !event.target.matches(INPUT)) { return; }
    close(parts(event.target));
  });
})();
