/* The sandbox's browser page: a local Slack, drawn from GET /_sandbox/snapshot and kept live
 * by the change feed at GET /_sandbox/stream. Everything the person does goes through the
 * sandbox's control API, so the bot sees what it would see from Slack.
 *
 * Plain JavaScript as native ES modules, no build step: text markup (mrkdwn, Markdown) is in
 * markup.js, Block Kit in blocks.js; the views, the modals and the composer are here. All text from messages is
 * escaped before it is drawn; markup is only ever produced by the renderers. */
import { blocks, entered, optionValue, plainText, usePage } from "./blocks.js";
import { emoji, esc, markdown, mrkdwn, useNames } from "./markup.js";

(() => {
  // ---------------------------------------------------------------------------------------
  // Small helpers
  // ---------------------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);
  const PALETTE = ["#e8912d", "#2bac76", "#1d9bd1", "#e01e5a", "#8a55d9", "#36c5f0", "#ecb22e"];
  const colorFor = (id) => {
    let h = 0;
    for (const c of String(id)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    return PALETTE[h % PALETTE.length];
  };
  const timeOf = (ts) => {
    const date = new Date(parseFloat(ts) * 1000);
    return date.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  };

  // ---------------------------------------------------------------------------------------
  // State and lookups
  // ---------------------------------------------------------------------------------------

  const store = window.sessionStorage;
  const state = {
    snap: null,
    me: store.getItem("sandbox.me") || "",
    view: JSON.parse(store.getItem("sandbox.view") || "null"),
    pane: null,
    assistant: {}, // user id -> {channel, thread_ts} of the chat open in the panel
    pending: new Set(), // buttons whose click is being delivered
    errors: {}, // composer id -> message
    typed: {}, // view id -> what the person typed in its inputs, not yet submitted
  };
  const params = new URLSearchParams(window.location.search);

  const users = () => (state.snap ? state.snap.users : []);
  const user = (id) => users().find((u) => u.id === id);
  const channel = (id) => (state.snap ? state.snap.channels.find((c) => c.id === id) : null);
  const botId = () => (state.snap ? state.snap.bot.user_id : "");
  const botName = () => (state.snap ? state.snap.bot.name : "");
  const botInitial = () => (botName() || "?").slice(0, 1).toUpperCase();
  const dmOf = (userId) => (state.snap ? state.snap.dms.find((d) => d.user === userId) : null);
  const messagesIn = (channelId) => (state.snap && state.snap.messages[channelId]) || [];
  const people = () => users().filter((u) => !u.is_bot && !u.deleted && u.id !== "USLACKBOT");
  const displayName = (id) => {
    if (id === "USLACKBOT") return "Slackbot";
    const u = user(id);
    return u ? u.display_name || u.real_name || u.name : id;
  };
  const fullName = (id) => {
    if (id === "USLACKBOT") return "Slackbot";
    const u = user(id);
    return u ? u.real_name || u.display_name || u.name : id;
  };
  const isMember = (c) => c && c.members.includes(state.me);

  // ---------------------------------------------------------------------------------------
  // Links and mentions
  // ---------------------------------------------------------------------------------------

  const mention = (id, fallback) => {
    const known = user(id);
    const name = known ? displayName(id) : fallback || id;
    const mine = id === state.me ? " me" : "";
    return `<span class="mention${mine}" data-user="${esc(id)}">@${esc(name)}</span>`;
  };
  const channelMention = (id, fallback) => {
    const known = channel(id);
    const name = known ? known.name : fallback || id;
    return `<span class="mention channel-ref" data-channel="${esc(id)}">#${esc(name)}</span>`;
  };
  useNames({ user: mention, channel: channelMention });

  usePage({
    people: () => people().map((p) => [p.id, p.real_name]),
    channels: () => state.snap.channels.map((c) => [c.id, `#${c.name}`]),
    conversations: () => [
      ...state.snap.channels.filter(isMember).map((c) => [c.id, `#${c.name}`]),
      ...state.snap.dms.filter((d) => d.user === state.me).map((d) => [d.id, `${botName()} (DM)`]),
    ],
    pending: (key) => state.pending.has(key),
  });

  // ---------------------------------------------------------------------------------------
  // Messages
  // ---------------------------------------------------------------------------------------

  /** Slack's two displays of an answer's tasks: a timeline of steps, or (task_display_mode
   * "plan") one checklist under the plan's title. */
  function chunkList(chunks, mode) {
    const rows = (chunks || []).map((c) => {
      if (c.type === "plan_update") return `<div class="chunk plan">${esc(c.title || "Plan")}</div>`;
      if (c.type === "task_update") {
        const mark = { complete: "✅", in_progress: "⏳", error: "⚠️" }[c.status] || "•";
        const output = c.output ? ` <span class="task-output">— ${esc(c.output)}</span>` : "";
        const links = (c.sources || [])
          .filter((s) => /^https?:/i.test(String(s.url || "")))
          .map((s) => `<a class="task-source" href="${esc(s.url)}" target="_blank" rel="noopener">${esc(s.text || s.url)}</a>`);
        const sources = links.length ? ` <span class="task-sources">· ${links.join(", ")}</span>` : "";
        return `<div class="chunk task ${esc(c.status || "")}"><span>${mark}</span> ${esc(c.title || c.id || "task")}${output}${sources}</div>`;
      }
      return "";
    });
    const kind = mode === "plan" ? "chunks plan-mode" : "chunks";
    return rows.length ? `<div class="${kind}">${rows.join("")}</div>` : "";
  }

  /** True for what a person typed: Slack's client sends it as text plus a rich_text copy of
   * it; the text (mrkdwn) is what the sandbox keeps faithfully, so draw that. */
  function typedText(m) {
    if (m.bot_id || !m.user || !m.blocks || m.blocks.length !== 1) return false;
    const [b] = m.blocks;
    if (b.type !== "rich_text" || !b.elements || b.elements.length !== 1) return false;
    const [section] = b.elements;
    return section.type === "rich_text_section" &&
      (section.elements || []).every((e) => (e.type === "text" || e.type === "user") && !e.style);
  }

  function content(m, ctx) {
    if (m.subtype === "tombstone") return '<div class="tombstone">This message was deleted.</div>';
    if (m.subtype === "assistant_app_thread") {
      const av = assistantFor(m.channel, m.ts);
      return `<div class="assistant-parent">✨ ${esc((av && av.title) || m.text || "New chat")}</div>`;
    }
    let html = "";
    if (m.markdown) {
      html += chunkList(m.chunks, m.task_display_mode);
      html += `<div class="md">${markdown(m.text)}</div>`;
      html += blocks(m.blocks, ctx);
    } else if (m.blocks && m.blocks.length && !typedText(m)) {
      html += blocks(m.blocks, ctx);
    } else {
      html += `<div class="mrkdwn">${mrkdwn(m.text)}</div>`;
    }
    if (m.streaming) html += `<div class="typing" aria-label="${esc(botName())} is writing"><i></i><i></i><i></i></div>`;
    if (m.edited && !m.streaming && m.user !== botId()) html += '<span class="edited">(edited)</span>';
    return html;
  }

  function authorOf(m) {
    if (m.ephemeralNote) return m.author || botId();
    if (m.bot_id) return botId();
    return m.user || "";
  }

  function avatar(id) {
    if (id === botId()) return `<div class="avatar bot" aria-hidden="true">${esc(botInitial())}</div>`;
    if (id === "USLACKBOT") return '<div class="avatar slackbot" aria-hidden="true">S</div>';
    const initial = esc((displayName(id) || "?").slice(0, 1).toUpperCase());
    return `<div class="avatar" style="background:${colorFor(id)}" aria-hidden="true">${initial}</div>`;
  }

  /** One message as {key, cls, html}: the unit the lists below redraw. */
  function messageItem(m, prev, opts) {
    const who = authorOf(m);
    const continued = prev && !prev.ephemeralNote && !m.ephemeralNote && authorOf(prev) === who &&
      parseFloat(m.ts) - parseFloat(prev.ts) < 300 && !opts.first && m.subtype !== "tombstone";
    const ctx = { ts: m.ts, channel: m.channel, home: false };
    const isBot = who === botId() || who === "USLACKBOT";
    const head = continued ? "" :
      `<div class="msg-head"><span class="author">${esc(fullName(who))}</span>` +
      (isBot ? '<span class="app-badge">APP</span>' : "") +
      `<span class="time" title="${esc(m.ts)}">${esc(timeOf(m.ts))}</span></div>`;
    let footer = "";
    if (m.ephemeralNote) {
      footer += '<div class="ephemeral-note"><span aria-hidden="true">👁</span> Only visible to you</div>';
    }
    if (m.reactions && m.reactions.length) {
      footer += `<div class="reactions">${m.reactions.map((r) =>
        `<span class="reaction${r.users.includes(state.me) ? " mine" : ""}">${emoji(r.name)} ${r.count}</span>`).join("")}</div>`;
    }
    if (opts.threadLinks && m.reply_count) {
      const faces = (m.reply_users || []).slice(0, 3).map((u) =>
        `<span class="mini-avatar" style="background:${u === botId() ? "#611f69" : colorFor(u)}">${esc(displayName(u).slice(0, 1))}</span>`).join("");
      const n = m.reply_count;
      footer += `<button type="button" class="thread-link" data-open-thread="${esc(m.ts)}">${faces}<span class="count">${n} ${n === 1 ? "reply" : "replies"}</span><span class="last">Last reply ${esc(timeOf(m.latest_reply || m.ts))}</span></button>`;
    }
    const hover = opts.threadLinks && !m.ephemeralNote && m.subtype !== "tombstone"
      ? `<div class="msg-actions"><button type="button" data-open-thread="${esc(m.ts)}" title="Reply in thread">💬 Reply in thread</button></div>`
      : "";
    const side = continued
      ? `<div class="gutter"><span class="time-hover">${esc(timeOf(m.ts))}</span></div>`
      : avatar(who);
    const cls = ["msg", m.streaming ? "streaming" : "", m.ephemeralNote ? "ephemeral" : "",
      continued ? "continued" : "", isBot ? "from-bot" : ""].filter(Boolean).join(" ");
    const html = `${side}<div class="msg-body">${head}<div class="msg-content">${content(m, ctx)}</div>${footer}</div>${hover}`;
    return { key: (m.ephemeralNote ? "e" : "m") + m.ts, cls, html, attrs: { ts: m.ts, channel: m.channel, ephemeral: m.ephemeralNote ? "1" : "" } };
  }

  function withEphemeral(list, channelId, threadTs) {
    const notes = ((state.snap && state.snap.ephemeral[state.me]) || [])
      .filter((n) => n.channel === channelId && (threadTs ? n.thread_ts === threadTs : !n.thread_ts))
      .map((n) => ({ ...n, ephemeralNote: true, markdown: false }));
    return [...list, ...notes].sort((a, b) => parseFloat(a.ts) - parseFloat(b.ts));
  }

  function messageItems(list, opts) {
    let prev = null;
    return list.map((m, index) => {
      const item = messageItem(m, prev, { ...opts, first: opts.firstIsParent && index === 0 });
      prev = m;
      return item;
    });
  }

  /** Redraws a list in place: unchanged messages keep their elements (and focus, hover). */
  function reconcile(container, items, emptyHtml) {
    const existing = new Map();
    for (const el of Array.from(container.children)) existing.set(el.dataset.key, el);
    const keep = new Set(items.map((it) => it.key));
    for (const [key, el] of existing) if (!keep.has(key)) el.remove();
    items.forEach((item, index) => {
      let el = existing.get(item.key);
      if (!el || !keep.has(item.key)) {
        el = document.createElement("div");
        el.dataset.key = item.key;
      }
      if (el._html !== item.html || el.className !== item.cls) {
        el.className = item.cls;
        el.innerHTML = item.html;
        el._html = item.html;
      }
      for (const [name, value] of Object.entries(item.attrs || {})) el.dataset[name] = value;
      if (container.children[index] !== el) container.insertBefore(el, container.children[index] || null);
    });
    const empty = container.querySelector(":scope > .empty");
    if (!items.length && emptyHtml) {
      if (!empty) container.insertAdjacentHTML("beforeend", `<div class="empty" data-key="__empty">${emptyHtml}</div>`);
    } else if (empty) empty.remove();
  }

  function keepScrolled(container, draw, force) {
    const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 120;
    draw();
    if (nearBottom || force) container.scrollTop = container.scrollHeight;
  }

  // ---------------------------------------------------------------------------------------
  // Views
  // ---------------------------------------------------------------------------------------

  function defaultView() {
    const general = state.snap.channels.find((c) => c.name === "general" && isMember(c));
    const first = general || state.snap.channels.find(isMember);
    return first ? { kind: "channel", id: first.id } : { kind: "dm", tab: "messages" };
  }

  function saveView() {
    store.setItem("sandbox.view", JSON.stringify(state.view));
    store.setItem("sandbox.me", state.me);
  }

  function renderPersonPicker() {
    const select = $("person");
    const options = people().map((p) => `<option value="${esc(p.id)}">${esc(p.real_name)} (@${esc(p.name)})</option>`).join("");
    if (select._html !== options) {
      select.innerHTML = options;
      select._html = options;
    }
    select.value = state.me;
  }

  function renderSidebar() {
    const snap = state.snap;
    const v = state.view || {};
    const row = (attrs, label, active, extra = "") =>
      `<button type="button" class="side-item${active ? " active" : ""}" ${attrs}>${label}${extra}</button>`;
    const channels = snap.channels.filter(isMember).sort((a, b) => a.name.localeCompare(b.name));
    const others = snap.channels.filter((c) => !isMember(c)).length;
    const channelRows = channels.map((c) =>
      row(`data-view="channel" data-id="${esc(c.id)}"`,
        `<span class="hash">${c.is_private ? "🔒" : "#"}</span>${esc(c.name)}`,
        v.kind === "channel" && v.id === c.id)).join("");
    const teammate = row('data-view="dm"',
      `<span class="side-avatar bot">${esc(botInitial())}</span>${esc(snap.bot.name)}<span class="app-badge small">APP</span>`,
      v.kind === "dm");
    const personRows = people().map((p) =>
      row(`data-view="person" data-id="${esc(p.id)}"`,
        `<span class="side-avatar" style="background:${colorFor(p.id)}">${esc(p.display_name.slice(0, 1))}</span>${esc(p.display_name)}${p.id === state.me ? ' <span class="you">you</span>' : ""}`,
        v.kind === "person" && v.id === p.id)).join("");
    const assistantOpen = state.pane && state.pane.kind === "assistant";
    const html =
      `<div class="workspace"><div class="workspace-name">${esc(snap.team.name)}</div>` +
      `<div class="workspace-domain">${esc(snap.team.domain)}.slack.local</div></div>` +
      `<div class="side-section">${row('data-open-assistant="1"', '<span class="hash">✨</span>Assistant', assistantOpen)}</div>` +
      `<div class="side-title">Channels</div><div class="side-section">${channelRows}` +
      (others ? `<div class="side-hint">${others} channel${others === 1 ? "" : "s"} you are not in</div>` : "") +
      `</div><div class="side-title">Direct messages</div><div class="side-section">${teammate}${personRows}</div>`;
    const sidebar = $("sidebar");
    if (sidebar._html !== html) {
      sidebar.innerHTML = html;
      sidebar._html = html;
    }
  }

  function renderHeader(html) {
    const header = $("view-header");
    if (header._html !== html) {
      header.innerHTML = html;
      header._html = html;
    }
  }

  function renderMain(force) {
    const v = state.view;
    const tabs = $("tabs");
    const list = $("messages");
    const home = $("home");
    const card = $("person-card");
    tabs.hidden = v.kind !== "dm";
    home.hidden = !(v.kind === "dm" && v.tab === "home");
    card.hidden = v.kind !== "person";
    list.hidden = !(v.kind === "channel" || (v.kind === "dm" && v.tab !== "home"));
    mainComposer.show(!list.hidden);

    if (v.kind === "channel") {
      const c = channel(v.id);
      if (!c) { state.view = defaultView(); return renderMain(true); }
      const members = c.members.length;
      const botNote = c.bot_member ? "" : `<span class="tag">${esc(botName())} is not in this channel</span>`;
      renderHeader(`<div class="view-title"><span class="hash">${c.is_private ? "🔒" : "#"}</span>${esc(c.name)}</div>` +
        `<div class="view-topic">${esc(c.topic)}</div><div class="view-meta">${botNote}<span class="members" title="Members">👤 ${members}</span></div>`);
      const top = messagesIn(c.id).filter((m) => !m.thread_ts || m.thread_ts === m.ts);
      const intro = {
        key: "intro",
        cls: "intro",
        html: `<div class="intro-title">#${esc(c.name)}</div>This is the very beginning of the <strong>#${esc(c.name)}</strong> channel${c.topic ? `: ${esc(c.topic)}` : ""}. ` +
          (c.bot_member ? `Mention <strong>@${esc(botName())}</strong> to ask it something.` : `${esc(botName())} is not a member: <code>/invite @${esc(botName())}</code> to add it.`),
      };
      const items = [intro, ...messageItems(withEphemeral(top, c.id, null), { threadLinks: true })];
      keepScrolled(list, () => reconcile(list, items), force);
      mainComposer.setTarget({ channel: c.id, placeholder: `Message #${c.name}` });
    } else if (v.kind === "dm") {
      const dm = dmOf(state.me);
      renderHeader(`<div class="view-title"><span class="side-avatar bot big">${esc(botInitial())}</span>${esc(state.snap.bot.name)}<span class="app-badge">APP</span></div>` +
        '<div class="view-topic">Ask it anything, here or in any channel it is in.</div>');
      const tabHtml = (state.snap.bot.home_tab ? ["home", "messages"] : ["messages"]).map((t) =>
        `<button type="button" class="tab${(v.tab || "messages") === t ? " active" : ""}" data-tab="${t}">${t === "home" ? "Home" : "Messages"}</button>`).join("");
      if (tabs._html !== tabHtml) { tabs.innerHTML = tabHtml; tabs._html = tabHtml; }
      if (v.tab === "home") {
        const view = state.snap.home[state.me];
        const html = view && view.blocks && view.blocks.length
          ? `<div class="home-view" data-in-view="home">${blocks(view.blocks, { ts: "home", channel: "", home: true, view: "home" })}</div>`
          : `<div class="empty home-empty">Nothing here yet: ${esc(botName())} has not published a Home tab for you.</div>`;
        if (home._html !== html) { home.innerHTML = html; home._html = html; }
      } else if (dm) {
        const top = messagesIn(dm.id).filter((m) => !m.thread_ts || m.thread_ts === m.ts);
        const intro = {
          key: "intro",
          cls: "intro",
          html: `<div class="intro-title">${esc(botName())}</div>This is your direct message with <strong>${esc(botName())}</strong>.`,
        };
        const items = [intro, ...messageItems(withEphemeral(top, dm.id, null), { threadLinks: true })];
        keepScrolled(list, () => reconcile(list, items), force);
        mainComposer.setTarget({ channel: dm.id, placeholder: `Message ${botName()}` });
      }
    } else if (v.kind === "person") {
      const p = user(v.id);
      renderHeader(`<div class="view-title"><span class="side-avatar" style="background:${colorFor(v.id)}">${esc(displayName(v.id).slice(0, 1))}</span>${esc(p ? p.real_name : v.id)}</div>`);
      const html = p ? `<div class="profile">${avatar(p.id).replace('class="avatar', 'class="avatar huge')}` +
        `<div><div class="profile-name">${esc(p.real_name)}</div><div class="profile-line">@${esc(p.name)} · ${esc(p.display_name)}</div>` +
        `<div class="profile-line">🕑 ${esc(p.tz)}</div>${p.email ? `<div class="profile-line">✉️ ${esc(p.email)}</div>` : ""}</div></div>` +
        `<p class="profile-note">Direct messages between people are not part of the sandbox: it emulates what ${esc(botName())} can see. Mention @${esc(botName())} in a channel, or open the ${esc(botName())} DM.</p>` : "";
      if (card._html !== html) { card.innerHTML = html; card._html = html; }
    }
  }

  function assistantFor(channelId, threadTs) {
    return (state.snap.assistant || []).find((a) => a.channel === channelId && a.thread_ts === threadTs);
  }

  function renderPane(force) {
    const pane = $("pane");
    const p = state.pane;
    pane.hidden = !p;
    document.body.classList.toggle("with-pane", Boolean(p));
    const prompts = $("prompts");
    if (!p) { prompts.hidden = true; return; }
    const header = $("pane-header");
    const body = $("pane-body");
    let headerHtml;
    let items = [];
    let empty = "";
    prompts.hidden = true;
    if (p.kind === "thread") {
      const c = channel(p.channel);
      const where = c ? `#${esc(c.name)}` : p.channel === (dmOf(state.me) || {}).id ? esc(botName()) : esc(p.channel);
      headerHtml = `<div class="pane-title">Thread <span class="pane-sub">${where}</span></div>` +
        '<button type="button" class="close" data-close-pane="1" title="Close">✕</button>';
      const thread = messagesIn(p.channel).filter((m) => m.ts === p.ts || m.thread_ts === p.ts);
      const parent = thread.find((m) => m.ts === p.ts);
      const replies = withEphemeral(thread.filter((m) => m.ts !== p.ts), p.channel, p.ts);
      items = [];
      if (parent) {
        items.push(messageItem(parent, null, { first: true }));
        const n = thread.length - 1;
        items.push({ key: "divider", cls: "replies-divider", html: `<span>${n} ${n === 1 ? "reply" : "replies"}</span>` });
      }
      items.push(...messageItems(replies, {}));
      paneComposer.setTarget({ channel: p.channel, thread_ts: p.ts, placeholder: "Reply…" });
    } else {
      const av = p.thread_ts ? assistantFor(p.channel, p.thread_ts) : null;
      const title = (av && av.title) || "New chat";
      headerHtml = `<div class="pane-title"><span class="side-avatar bot">${esc(botInitial())}</span>${esc(botName())} <span class="pane-sub assistant-title">${esc(title)}</span></div>` +
        '<button type="button" class="ghost" data-new-chat="1" title="Start a new chat">✚ New chat</button>' +
        '<button type="button" class="close" data-close-pane="1" title="Close">✕</button>';
      if (!p.thread_ts) {
        empty = '<div class="empty">Starting a new chat…</div>';
      } else {
        const thread = messagesIn(p.channel).filter((m) => m.thread_ts === p.thread_ts && m.ts !== p.thread_ts);
        items = messageItems(withEphemeral(thread, p.channel, p.thread_ts), {});
        if (av && av.status) {
          items.push({ key: "status", cls: "assistant-status", html: `<span class="side-avatar bot">${esc(botInitial())}</span><span>${esc(botName())} <em>${esc(av.status)}</em></span><span class="typing"><i></i><i></i><i></i></span>` });
        }
        const asked = thread.some((m) => m.user === state.me);
        const suggested = av && av.suggested_prompts;
        if (suggested && suggested.prompts && !asked) {
          const html = (suggested.title ? `<div class="prompts-title">${esc(suggested.title)}</div>` : "") +
            suggested.prompts.map((s, i) => `<button type="button" class="chip" data-prompt="${i}" title="${esc(s.message)}">${esc(s.title)}</button>`).join("");
          if (prompts._html !== html) { prompts.innerHTML = html; prompts._html = html; }
          prompts.hidden = false;
        }
        paneComposer.setTarget({ channel: p.channel, thread_ts: p.thread_ts, placeholder: `Ask ${botName()}…` });
      }
    }
    if (header._html !== headerHtml) { header.innerHTML = headerHtml; header._html = headerHtml; }
    header.dataset.kind = p.kind;
    keepScrolled(body, () => reconcile(body, items, empty), force);
    paneComposer.show(p.kind === "thread" || Boolean(p.thread_ts));
  }

  // ---------------------------------------------------------------------------------------
  // Modals: the top of the person's stack, drawn over the page
  // ---------------------------------------------------------------------------------------

  const topModal = () => {
    const stack = ((state.snap && state.snap.modals) || {})[state.me] || [];
    return { view: stack[stack.length - 1], depth: stack.length };
  };

  /** What the person typed or picked in the modal's inputs: {block_id: {action_id: value}}. */
  function modalValues(root) {
    const values = {};
    for (const node of root.querySelectorAll("[data-input][data-action-id]")) {
      const blockId = node.dataset.blockId;
      (values[blockId] = values[blockId] || {})[node.dataset.actionId] = entered(node);
    }
    return values;
  }

  function restoreValues(root, values) {
    for (const node of root.querySelectorAll("[data-input][data-action-id]")) {
      const value = (values[node.dataset.blockId] || {})[node.dataset.actionId];
      if (value === undefined) continue;
      const wanted = new Set((Array.isArray(value) ? value : value === null ? [] : [value]).map(optionValue));
      if (node.dataset.kind === "checkboxes" || node.dataset.kind === "radio_buttons") {
        for (const box of node.querySelectorAll("input")) box.checked = wanted.has(box.value);
      } else if (node.tagName === "SELECT") {
        for (const option of node.options) option.selected = wanted.has(option.value);
      } else node.value = value ?? "";
    }
  }

  function renderModal() {
    const root = $("modal");
    const { view, depth } = topModal();
    document.body.classList.toggle("with-modal", Boolean(view));
    if (!view) {
      root.hidden = true;
      if (root._html) { root.innerHTML = ""; root._html = ""; root._viewId = ""; }
      state.typed = {};
      return;
    }
    const ctx = { ts: view.id, channel: "", view: view.id, values: (view.state || {}).values, errors: view.errors || {} };
    const trouble = (view.errors || {})[""];
    const busy = state.pending.has(`${view.id}|submit`);
    const close = view.close || { type: "plain_text", text: depth > 1 ? "Back" : "Cancel" };
    const html =
      `<div class="modal" role="dialog" aria-modal="true" aria-label="${esc(view.title.text)}" data-in-view="${esc(view.id)}">` +
      `<div class="modal-head"><span class="side-avatar bot">${esc(botInitial())}</span><div class="modal-title">${plainText(view.title)}</div>` +
      '<button type="button" class="close" data-modal-x="1" title="Close" aria-label="Close">✕</button></div>' +
      (trouble ? `<div class="modal-error" role="alert">${esc(trouble)}</div>` : "") +
      `<div class="modal-body">${blocks(view.blocks, ctx)}</div>` +
      `<div class="modal-foot"><button type="button" class="bk-button" data-modal-close="1">${plainText(close)}</button>` +
      (view.submit ? `<button type="button" class="bk-button primary${busy ? " pending" : ""}" data-modal-submit="1"${busy ? " disabled" : ""}>${plainText(view.submit)}</button>` : "") +
      "</div></div>";
    if (root._html !== html) {
      // What the person typed is kept per view, as Slack's client keeps it: through an
      // update (where the block and action ids stay) and under a pushed view.
      if (root._viewId) state.typed[root._viewId] = modalValues(root);
      root.innerHTML = html;
      root._html = html;
      root._viewId = view.id;
      if (state.typed[view.id]) restoreValues(root, state.typed[view.id]);
    }
    root.hidden = false;
  }

  async function submitModal() {
    const { view } = topModal();
    if (!view) return;
    const key = `${view.id}|submit`;
    if (state.pending.has(key)) return;
    const values = modalValues($("modal"));
    state.pending.add(key);
    renderModal();
    try {
      const result = await api("/views/submit", { user: state.me, view_id: view.id, values });
      if (result.note && !Object.keys(result.errors || {}).length) showToast(result.note);
    } catch (err) {
      showToast(`The form was not sent: ${err.message}`);
    } finally {
      state.pending.delete(key);
      await refresh(false);
    }
  }

  async function closeModal(clear) {
    const { view } = topModal();
    if (!view) return;
    try {
      await api("/views/close", { user: state.me, view_id: view.id, clear });
    } catch (err) {
      showToast(err.message);
    }
    await refresh(false);
  }

  /** A choice in a select, menu, picker or checkbox outside a modal's input blocks. */
  /** Where an element is, for the control API: {view_id} or {channel, message_ts}. */
  function placeOf(node) {
    const inView = node.closest("[data-in-view]");
    if (inView) return { view_id: inView.dataset.inView };
    const msg = node.closest("[data-key]");
    return msg && msg.dataset.ts ? { channel: msg.dataset.channel, message_ts: msg.dataset.ts } : null;
  }

  async function act(node, value) {
    const where = placeOf(node);
    if (!where) return;
    const body = { user: state.me, action_id: node.dataset.actionId, value, ...where };
    try {
      const result = await api("/actions", body);
      if (result.note) showToast(result.note);
    } catch (err) {
      showToast(`The choice was not delivered: ${err.message}`);
    }
    scheduleRefresh(0);
  }

  /** An external select's options come from the app (block_suggestion), when opened. */
  async function loadOptions(select) {
    if (select._loading) return;
    select._loading = true;
    try {
      const where = placeOf(select);
      if (!where) return;
      const found = await api("/views/options", { user: state.me, action_id: select.dataset.actionId, query: "", ...where });
      const options = [...found.options, ...found.option_groups.flatMap((g) => g.options || [])];
      for (const o of options) {
        if ([...select.options].some((x) => x.value === o.value)) continue;
        select.insertAdjacentHTML("beforeend", `<option value="${esc(o.value)}">${plainText(o.text)}</option>`);
      }
    } catch (err) {
      showToast(`No options: ${err.message}`);
    }
  }

  function render(force) {
    if (!state.snap) return;
    if (!state.me || !user(state.me)) state.me = (people()[0] || {}).id || "";
    if (!state.view || (state.view.kind === "channel" && !isMember(channel(state.view.id)))) state.view = defaultView();
    if (state.view.tab === "home" && !state.snap.bot.home_tab) state.view = { ...state.view, tab: "messages" };
    renderPersonPicker();
    renderSidebar();
    renderMain(force);
    renderPane(force);
    renderModal();
    mainComposer.refreshError();
    paneComposer.refreshError();
  }

  // ---------------------------------------------------------------------------------------
  // Talking to the sandbox
  // ---------------------------------------------------------------------------------------

  async function api(path, body) {
    const response = await fetch(`/_sandbox${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (_) { /* an empty answer */ }
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  let fetching = false;
  let dirty = false;
  let timer = null;
  async function refresh(force) {
    if (fetching) { dirty = true; return; }
    fetching = true;
    try {
      state.snap = await api("/snapshot");
      render(force);
    } catch (err) {
      setLive(false, "sandbox unreachable");
    } finally {
      fetching = false;
      if (dirty) { dirty = false; scheduleRefresh(0); }
    }
  }
  function scheduleRefresh(delay = 40) {
    if (timer) return;
    timer = setTimeout(() => { timer = null; refresh(false); }, delay);
  }

  const QUIET = new Set(["call", "delivery", "hello", "socket", "socket_open", "socket_closed", "socket_ack"]);
  function setLive(ok, text) {
    const live = $("live");
    live.textContent = text || (ok ? "live" : "reconnecting…");
    live.classList.toggle("ok", ok);
  }
  function connect() {
    const source = new EventSource("/_sandbox/stream");
    source.onopen = () => { setLive(true); scheduleRefresh(0); };
    source.onerror = () => setLive(false);
    source.onmessage = (event) => {
      let record;
      try { record = JSON.parse(event.data); } catch (_) { return; }
      if (!QUIET.has(record.kind) && !String(record.kind).startsWith("socket")) scheduleRefresh();
    };
  }

  async function openAssistant(fresh) {
    const existing = state.assistant[state.me];
    const dm = dmOf(state.me);
    if (existing && !fresh) {
      state.pane = { kind: "assistant", ...existing };
      render(true);
      return;
    }
    state.pane = { kind: "assistant", channel: dm ? dm.id : "", thread_ts: null };
    render(true);
    const context = state.view && state.view.kind === "channel" ? state.view.id : undefined;
    try {
      const opened = await api("/assistant/threads", { user: state.me, context_channel: context });
      state.assistant[state.me] = { channel: opened.channel, thread_ts: opened.thread_ts };
      if (state.pane && state.pane.kind === "assistant") state.pane = { kind: "assistant", ...state.assistant[state.me] };
      await refresh(true);
    } catch (err) {
      paneComposer.setError(`Could not open the assistant: ${err.message}`);
    }
  }

  async function clickButton(button) {
    const inView = button.closest("[data-in-view]");
    const msg = inView ? null : button.closest("[data-key]");
    if (!inView && (!msg || !msg.dataset.ts)) return;
    const where = inView
      ? { view_id: inView.dataset.inView }
      : { channel: msg.dataset.channel, message_ts: msg.dataset.ts };
    const key = `${inView ? inView.dataset.inView : msg.dataset.ts}|${button.dataset.actionId}`;
    if (state.pending.has(key)) return;
    if (button.dataset.url) window.open(button.dataset.url, "_blank", "noopener");
    state.pending.add(key);
    render(false); // draws the button as pending
    try {
      const result = await api("/actions", {
        user: state.me,
        ...where,
        action_id: button.dataset.actionId,
        value: button.dataset.value || undefined,
      });
      if (result.note) showToast(result.note);
    } catch (err) {
      showToast(`The click was not delivered: ${err.message}`);
    } finally {
      state.pending.delete(key);
      render(false);
      scheduleRefresh(0);
    }
  }

  let toastTimer = null;
  function showToast(text) {
    let toast = document.querySelector(".toast");
    if (!toast) {
      toast = document.createElement("div");
      toast.className = "toast";
      toast.setAttribute("role", "status");
      document.body.appendChild(toast);
    }
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.hidden = true; }, 5000);
  }

  // ---------------------------------------------------------------------------------------
  // The composer, with @mention and /command completion
  // ---------------------------------------------------------------------------------------

  const slackEscape = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

  class Composer {
    constructor(slot, name) {
      this.name = name;
      this.target = null;
      this.mentions = [];
      this.options = [];
      this.selected = 0;
      this.error = "";
      slot.innerHTML =
        `<div class="composer" data-composer="${name}">` +
        '<ul class="completion" role="listbox" hidden></ul>' +
        '<div class="composer-box"><textarea rows="1" aria-label="Message"></textarea>' +
        '<button type="button" class="send" title="Send (Enter)" aria-label="Send">➤</button></div>' +
        '<div class="composer-hint"><span class="hint-text"><b>Enter</b> to send · <b>Shift+Enter</b> new line · <b>@</b> mention · <b>/</b> commands</span><span class="composer-error" role="alert"></span></div></div>';
      this.root = slot.firstChild;
      this.slot = slot;
      this.input = this.root.querySelector("textarea");
      this.list = this.root.querySelector(".completion");
      this.errorEl = this.root.querySelector(".composer-error");
      this.input.addEventListener("keydown", (e) => this.onKey(e));
      this.input.addEventListener("input", () => { this.autosize(); this.complete(); this.setError(""); });
      this.input.addEventListener("click", () => this.complete());
      this.input.addEventListener("blur", () => setTimeout(() => {
        if (document.activeElement !== this.input) this.close(); // a click on the list refocuses
      }, 150));
      this.root.querySelector(".send").addEventListener("click", () => this.send());
      this.list.addEventListener("mousedown", (e) => {
        const item = e.target.closest("li[data-index]");
        if (item) { e.preventDefault(); this.pick(Number(item.dataset.index)); }
      });
    }

    show(visible) { this.slot.hidden = !visible; }

    setTarget(target) {
      const changed = !this.target || this.target.channel !== target.channel || this.target.thread_ts !== target.thread_ts;
      this.target = target;
      this.input.placeholder = target.placeholder || "Message";
      if (changed) { this.mentions = []; this.setError(""); }
    }

    setError(text) { this.error = text; this.refreshError(); }
    refreshError() { this.errorEl.textContent = this.error; this.root.classList.toggle("has-error", Boolean(this.error)); }

    autosize() {
      this.input.style.height = "auto";
      this.input.style.height = `${Math.min(this.input.scrollHeight, 200)}px`;
    }

    onKey(e) {
      const open = !this.list.hidden && this.options.length;
      if (open && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
        e.preventDefault();
        const step = e.key === "ArrowDown" ? 1 : -1;
        this.selected = (this.selected + step + this.options.length) % this.options.length;
        this.drawOptions();
      } else if (open && (e.key === "Enter" || e.key === "Tab") && !e.shiftKey) {
        e.preventDefault();
        this.pick(this.selected);
      } else if (open && e.key === "Escape") {
        e.preventDefault();
        this.close();
      } else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    }

    /** Looks at the text before the caret: "/cmd" at the start, or "@name" anywhere. */
    complete() {
      const before = this.input.value.slice(0, this.input.selectionStart);
      const slash = before.match(/^\/(\S*)$/);
      const at = before.match(/(^|\s)@([\w.-]*)$/);
      const commands = (state.snap && state.snap.slash_commands) || [];
      if (slash && commands.length) {
        const q = slash[1].toLowerCase();
        this.mode = "command";
        this.options = commands.filter((c) => c.command.slice(1).toLowerCase().startsWith(q));
      } else if (at) {
        const q = at[2].toLowerCase();
        this.mode = "mention";
        const everyone = users().filter((u) => !u.deleted && u.id !== "USLACKBOT");
        this.options = everyone.filter((u) =>
          [u.name, u.display_name, u.real_name].some((n) => String(n || "").toLowerCase().startsWith(q)) ||
          String(u.real_name || "").toLowerCase().split(/\s+/).some((w) => w.startsWith(q)))
          .sort((a, b) => Number(b.is_bot) - Number(a.is_bot));
      } else {
        this.options = [];
      }
      this.selected = 0;
      this.drawOptions();
    }

    drawOptions() {
      if (!this.options.length) { this.close(); return; }
      this.list.innerHTML = this.options.map((o, i) => {
        const active = i === this.selected ? " active" : "";
        if (this.mode === "command") {
          return `<li role="option" class="option command${active}" data-index="${i}" aria-selected="${i === this.selected}">` +
            `<div><span class="cmd">${esc(o.command)}</span> <span class="usage">${esc(o.usage_hint)}</span></div>` +
            `<div class="desc">${esc(o.description)}</div></li>`;
        }
        const badge = o.is_bot ? '<span class="app-badge small">APP</span>' : "";
        return `<li role="option" class="option person${active}" data-index="${i}" aria-selected="${i === this.selected}">` +
          `${avatar(o.id).replace('class="avatar', 'class="avatar small')}<span class="name">${esc(o.display_name || o.real_name)}</span>${badge}<span class="real">${esc(o.real_name)}</span></li>`;
      }).join("");
      this.list.dataset.mode = this.mode;
      this.list.hidden = false;
    }

    close() { this.list.hidden = true; this.options = []; }

    pick(index) {
      const option = this.options[index];
      if (!option) return;
      const caret = this.input.selectionStart;
      const before = this.input.value.slice(0, caret);
      const after = this.input.value.slice(caret);
      let head;
      if (this.mode === "command") {
        head = `${option.command} `;
      } else {
        const label = `@${option.display_name || option.name}`;
        this.mentions.push({ label, id: option.id });
        head = before.replace(/@[\w.-]*$/, `${label} `);
      }
      this.input.value = head + after.replace(/^\s+/, "");
      this.input.focus();
      this.input.setSelectionRange(head.length, head.length);
      this.close();
      this.autosize();
    }

    /** As Slack's client sends it: &, < and > escaped, picked mentions as <@U…>. */
    encode(text) {
      let out = slackEscape(text);
      const labels = [...this.mentions].sort((a, b) => b.label.length - a.label.length);
      for (const { label, id } of labels) {
        const re = new RegExp(`(^|[^\\w<])${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w])`, "g");
        out = out.replace(re, (_, pre) => `${pre}<@${id}>`);
      }
      return out;
    }

    async send() {
      const raw = this.input.value;
      const text = raw.trim();
      if (!text || !this.target) return;
      this.close();
      const command = text.match(/^(\/[\w.-]+)(?:\s+([\s\S]*))?$/);
      const commands = (state.snap && state.snap.slash_commands) || [];
      if (command && commands.length && !commands.some((c) => c.command === command[1])) {
        this.setError(`${command[1]} is not a valid command.`);
        return;
      }
      this.input.value = "";
      this.autosize();
      const mentions = this.mentions;
      this.mentions = [];
      try {
        if (command) {
          const result = await api("/commands", { user: state.me, channel: this.target.channel, command: command[1], text: command[2] || "" });
          if (result.note && !result.failed) showToast(result.note);
        } else {
          this.mentions = mentions;
          const encoded = this.encode(text);
          this.mentions = [];
          await api("/messages", { user: state.me, channel: this.target.channel, text: encoded, thread_ts: this.target.thread_ts || undefined });
        }
        this.setError("");
        scheduleRefresh(0);
      } catch (err) {
        this.input.value = raw;
        this.mentions = mentions;
        this.autosize();
        this.setError(err.message);
      }
    }
  }

  const mainComposer = new Composer($("main-composer"), "main");
  const paneComposer = new Composer($("pane-composer"), "pane");

  // ---------------------------------------------------------------------------------------
  // Clicks anywhere on the page
  // ---------------------------------------------------------------------------------------

  document.addEventListener("change", (e) => {
    const node = e.target.closest("[data-action-id]");
    if (!node || node.tagName === "BUTTON" || node.dataset.input) return; // inputs wait for submit
    const value = entered(node);
    if (node.dataset.kind === "overflow") node.value = "";
    if (value === null && node.dataset.kind === "overflow") return;
    act(node, value);
  });
  document.addEventListener("focusin", (e) => {
    if (e.target.matches && e.target.matches("select[data-external]")) loadOptions(e.target);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && topModal().view) closeModal(false);
  });

  document.addEventListener("click", (e) => {
    const t = e.target.closest("button, [data-user], [data-channel]");
    if (!t) return;
    if (t.dataset.modalSubmit) { submitModal(); return; }
    if (t.dataset.modalClose) { closeModal(false); return; }
    if (t.dataset.modalX) { closeModal(true); return; }
    if (t.dataset.actionId) { clickButton(t); return; }
    if (t.dataset.openThread) {
      const list = t.closest("[data-key]");
      state.pane = { kind: "thread", channel: list.dataset.channel, ts: t.dataset.openThread };
      render(true);
      paneComposer.input.focus();
      return;
    }
    if (t.dataset.closePane) { state.pane = null; render(false); renderSidebar(); return; }
    if (t.dataset.newChat) { openAssistant(true); return; }
    if (t.dataset.openAssistant) {
      if (state.pane && state.pane.kind === "assistant") { state.pane = null; render(false); } else openAssistant(false);
      return;
    }
    if (t.dataset.prompt !== undefined && state.pane && state.pane.kind === "assistant") {
      const av = assistantFor(state.pane.channel, state.pane.thread_ts);
      const prompt = av && av.suggested_prompts && av.suggested_prompts.prompts[Number(t.dataset.prompt)];
      if (prompt) {
        $("prompts").hidden = true;
        api("/messages", { user: state.me, channel: state.pane.channel, text: slackEscape(prompt.message), thread_ts: state.pane.thread_ts })
          .then(() => scheduleRefresh(0), (err) => paneComposer.setError(err.message));
      }
      return;
    }
    if (t.dataset.tab) {
      state.view = { ...state.view, tab: t.dataset.tab };
      saveView();
      render(true);
      if (t.dataset.tab === "home") api("/home/open", { user: state.me }).then(() => scheduleRefresh(0), (err) => showToast(err.message));
      return;
    }
    if (t.dataset.view) {
      const v = t.dataset.view;
      if (v === "channel") state.view = { kind: "channel", id: t.dataset.id };
      else if (v === "dm") state.view = { kind: "dm", tab: (state.view && state.view.kind === "dm" && state.view.tab) || "messages" };
      else state.view = { kind: "person", id: t.dataset.id };
      if (state.pane && state.pane.kind === "thread") state.pane = null;
      saveView();
      render(true);
      if (state.view.kind === "dm" && state.view.tab === "home") api("/home/open", { user: state.me }).catch(() => {});
      if (state.view.kind !== "person") mainComposer.input.focus();
      return;
    }
    if (t.dataset.channel && t.classList.contains("channel-ref") && isMember(channel(t.dataset.channel))) {
      state.view = { kind: "channel", id: t.dataset.channel };
      saveView();
      render(true);
    }
  });

  $("person").addEventListener("change", (e) => {
    state.me = e.target.value;
    state.pane = null;
    state.view = null;
    state.view = defaultView();
    saveView();
    mainComposer.setError("");
    render(true);
  });

  // ---------------------------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------------------------

  if (params.get("as")) state.me = params.get("as");
  (async () => {
    try {
      state.snap = await api("/snapshot");
    } catch (err) {
      setLive(false, "sandbox unreachable");
      return;
    }
    const asked = params.get("as");
    if (asked) {
      const found = users().find((u) => u.id === asked || u.name === asked);
      if (found) state.me = found.id;
    }
    render(true);
    connect();
  })();

  // For tests and the curious: the renderers, without the page around them.
  window.sandboxUi = { mrkdwn, markdown, blocks: (list) => blocks(list, { ts: "", channel: "" }), state };
})();
