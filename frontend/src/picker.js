// Choose who is listening: search existing listeners, pick one, or start as a new listener.
import {api} from './api.js';
import {debounce, h, replace, toast} from './dom.js';
import {selectUser, state, subscribe} from './state.js';

const MATCH_LIMIT = 50;

export function mountPicker(root) {
  const search = h('input', {id: 'listener-search', type: 'search', placeholder: 'Type a name',
    autocomplete: 'off'});
  const select = h('select', {id: 'listener-select'});
  const nameInput = h('input', {id: 'new-listener-name', type: 'text', required: true,
    maxlength: '80', autocomplete: 'nickname', placeholder: 'e.g. Robin'});
  const form = h('form', {class: 'new-listener', hidden: true, 'aria-label': 'New listener'},
    h('label', {for: 'new-listener-name'}, 'Your name'), nameInput,
    h('button', {type: 'submit', class: 'btn btn-primary'}, 'Start listening'),
    h('button', {type: 'button', class: 'btn btn-quiet', onClick: () => showForm(false)},
      'Cancel'));
  const toggle = h('button', {type: 'button', class: 'btn', 'aria-expanded': 'false',
    'aria-controls': 'new-listener-form', onClick: () => showForm(form.hidden)}, '+ New listener');
  form.id = 'new-listener-form';
  let matches = [];

  function showForm(show) {
    form.hidden = !show;
    toggle.setAttribute('aria-expanded', String(show));
    if (show) nameInput.focus();
    else toggle.focus();
  }

  function drawOptions() {
    const current = state.user;
    const shown = current && !matches.some((u) => u.id === current.id)
      ? [current, ...matches] : matches;
    replace(select,
      h('option', {value: ''}, shown.length ? `Choose a listener (${matches.length} found)`
        : 'No listener matches'),
      shown.map((user) => h('option', {value: user.id, selected: current && user.id === current.id},
        `${user.name} · ${user.like_count ?? 0} likes`)));
  }

  async function findListeners() {
    try {
      const answer = await api.users(search.value.trim(), MATCH_LIMIT);
      matches = answer.items;
    } catch (error) {
      matches = [];
      toast(`Could not load listeners: ${error.detail}`, 'error');
    }
    drawOptions();
  }

  search.addEventListener('input', debounce(findListeners, 200));
  document.addEventListener('new-listener', () => showForm(true));
  select.addEventListener('change', async () => {
    const user = [state.user, ...matches].find((u) => u && u.id === select.value);
    try {
      await selectUser(user || null);
    } catch (error) {
      toast(`Could not load that listener: ${error.detail}`, 'error');
    }
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = nameInput.value.trim();
    if (!name) return;
    try {
      const user = await api.createUser(name);
      nameInput.value = '';
      form.hidden = true;
      toggle.setAttribute('aria-expanded', 'false');
      await selectUser(user);
      toast(`Welcome, ${user.name}! Like a playlist to get personal picks.`, 'success');
    } catch (error) {
      toast(`Could not create the listener: ${error.detail}`, 'error');
    }
  });
  subscribe((change) => { if (change.type === 'user') drawOptions(); });

  replace(root,
    h('p', {id: 'demo-mode', class: 'demo-mode',
      title: 'Anyone using this instance may act as any listener. Not for real users.'},
    'Demo mode: pick any listener'),
    h('div', {class: 'field'}, h('label', {for: 'listener-search'}, 'Find a listener'), search),
    h('div', {class: 'field'}, h('label', {for: 'listener-select'}, 'Listener'), select),
    h('div', {class: 'field field-action'}, toggle),
    form);
  findListeners();
  return {focus: () => search.focus()};
}
