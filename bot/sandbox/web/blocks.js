/* Block Kit for the sandbox's page: blocks, rich text and interactive elements (buttons,
 * selects, menus, pickers, choices, inputs), drawn the way Slack's client draws them. What the
 * workspace offers (people, channels) and which clicks are on their way come from the page
 * (usePage). */
import { SAFE_URL, channelRef, emoji, emojiNames, esc, link, markdown, mrkdwn, slackDate, userMention } from "./markup.js";

const page = {
  people: () => [], // [[user id, name]] a users select offers
  channels: () => [], // [[channel id, "#name"]] a channels select offers
  conversations: () => [], // the same for a conversations select (DMs too)
  pending: (key) => false, // a click on "ts|action_id" is being delivered
};
/** Tells the renderer what the workspace offers and which clicks are pending. */
function usePage(hooks) { Object.assign(page, hooks); }

const textObject = (t) => {
  if (!t) return "";
  if (typeof t === "string") return mrkdwn(t);
  if (t.type === "mrkdwn") return mrkdwn(t.text);
  const plain = esc(t.text).replace(/\n/g, "<br>");
  return t.emoji === false ? plain : emojiNames(plain);
};
const plainText = (t) => (t ? emojiNames(esc(typeof t === "string" ? t : t.text)) : "");
const unknown = (what) => `<div class="bk-unknown">Unsupported ${esc(what)}</div>`;

// Interactive elements: what the person picks is sent as Slack's client sends it (see
// bot/sandbox/blockstate.py); in a modal's input blocks it is kept until the submit.
const optionValue = (o) => (o && typeof o === "object" ? o.value : o);
const optionsOf = (el) => [...(el.options || []), ...(el.option_groups || []).flatMap((g) => g.options || [])];
const entryOf = (el, ctx) => ((ctx.values || {})[ctx.block_id] || {})[el.action_id];

/** The element's current selection: what the view's state holds, else its initial value. */
function current(el, ctx) {
  const entry = entryOf(el, ctx);
  const pick = (field, initial) => (entry && field in entry ? entry[field] : el[initial]);
  switch (el.type) {
    case "static_select": case "external_select": case "radio_buttons":
      return optionValue(pick("selected_option", "initial_option"));
    case "multi_static_select": case "multi_external_select": case "checkboxes":
      return (pick("selected_options", "initial_options") || []).map(optionValue);
    case "users_select": return pick("selected_user", "initial_user");
    case "multi_users_select": return pick("selected_users", "initial_users") || [];
    case "conversations_select": return pick("selected_conversation", "initial_conversation");
    case "multi_conversations_select": return pick("selected_conversations", "initial_conversations") || [];
    case "channels_select": return pick("selected_channel", "initial_channel");
    case "multi_channels_select": return pick("selected_channels", "initial_channels") || [];
    case "datepicker": return pick("selected_date", "initial_date");
    case "timepicker": return pick("selected_time", "initial_time");
    default: return pick("value", "initial_value");
  }
}

/** [value, label] pairs a select offers; users and conversations come from the workspace. */
function choicesOf(el) {
  const kind = el.type.replace(/^multi_/, "");
  if (kind === "users_select") return page.people();
  if (kind === "channels_select") return page.channels();
  if (kind === "conversations_select") return page.conversations();
  const options = optionsOf(el).map((o) => [o.value, o.text ? o.text.text : o.value]);
  const picked = el._loaded || [];
  return [...options, ...picked.filter(([v]) => !options.some(([w]) => w === v))];
}

function elementAttrs(el, ctx) {
  return ` data-action-id="${esc(el.action_id)}" data-kind="${esc(el.type)}"` +
    (ctx.block_id ? ` data-block-id="${esc(ctx.block_id)}"` : "") +
    (ctx.input ? ' data-input="1"' : "");
}

function selectElement(el, ctx) {
  const multiple = el.type.startsWith("multi_");
  const now = current(el, ctx);
  const chosen = new Set(multiple ? now || [] : now ? [now] : []);
  const loaded = el.type.endsWith("external_select") ? " data-external=\"1\"" : "";
  const placeholder = multiple ? "" :
    `<option value=""${chosen.size ? "" : " selected"}>${esc(el.placeholder ? el.placeholder.text : "Select an item")}</option>`;
  const options = choicesOf(el).map(([value, label]) =>
    `<option value="${esc(value)}"${chosen.has(value) ? " selected" : ""}>${plainText(label)}</option>`).join("");
  const selectedExternal = el.type.endsWith("external_select")
    ? [...chosen].filter((v) => !choicesOf(el).some(([w]) => w === v)).map((v) => `<option value="${esc(v)}" selected>${esc(v)}</option>`).join("")
    : "";
  return `<select class="bk-select"${multiple ? " multiple" : ""}${elementAttrs(el, ctx)}${loaded} aria-label="${esc(el.placeholder ? el.placeholder.text : el.action_id)}">${placeholder}${options}${selectedExternal}</select>`;
}

function choiceList(el, ctx) {
  const kind = el.type === "checkboxes" ? "checkbox" : "radio";
  const now = current(el, ctx);
  const chosen = new Set(Array.isArray(now) ? now : now ? [now] : []);
  const name = `${ctx.ts}|${ctx.block_id}|${el.action_id}`;
  const rows = optionsOf(el).map((o) =>
    `<label class="bk-choice"><input type="${kind}" name="${esc(name)}" value="${esc(o.value)}"${chosen.has(o.value) ? " checked" : ""}>` +
    `<span>${textObject(o.text)}</span></label>`).join("");
  return `<div class="bk-choices" role="group"${elementAttrs(el, ctx)}>${rows}</div>`;
}

function textInput(el, ctx) {
  const value = current(el, ctx);
  const placeholder = el.placeholder ? ` placeholder="${esc(el.placeholder.text)}"` : "";
  if (el.type === "plain_text_input" && el.multiline) {
    return `<textarea class="bk-input-text" rows="4"${elementAttrs(el, ctx)}${placeholder}>${esc(value ?? "")}</textarea>`;
  }
  const type = { email_text_input: "email", url_text_input: "url", number_input: "number" }[el.type] || "text";
  const shown = value === null || value === undefined ? "" : typeof value === "object" ? "" : value;
  return `<input class="bk-input-text" type="${type}"${elementAttrs(el, ctx)}${placeholder} value="${esc(shown)}">`;
}

function element(el, ctx) {
  if (!el || typeof el !== "object") return "";
  switch (el.type) {
    case "button": {
      const key = `${ctx.ts}|${el.action_id}`;
      const pending = page.pending(key);
      const style = el.style === "primary" || el.style === "danger" ? ` ${el.style}` : "";
      const attrs = ` data-action-id="${esc(el.action_id)}" data-value="${esc(el.value ?? "")}"` +
          (el.url && SAFE_URL.test(el.url) ? ` data-url="${esc(el.url)}"` : "") +
          (pending ? " disabled aria-busy=\"true\"" : "");
      return `<button type="button" class="bk-button${style}${pending ? " pending" : ""}"${attrs}>${plainText(el.text)}</button>`;
    }
    case "static_select": case "external_select": case "users_select":
    case "conversations_select": case "channels_select": case "multi_static_select":
    case "multi_external_select": case "multi_users_select": case "multi_conversations_select":
    case "multi_channels_select":
      return selectElement(el, ctx);
    case "overflow": {
      const options = optionsOf(el).map((o) => `<option value="${esc(o.value)}">${plainText(o.text)}</option>`).join("");
      return `<select class="bk-overflow"${elementAttrs(el, ctx)} aria-label="More actions" title="More actions"><option value="" selected>⋯</option>${options}</select>`;
    }
    case "datepicker":
      return `<input class="bk-date" type="date"${elementAttrs(el, ctx)} value="${esc(current(el, ctx) || "")}">`;
    case "timepicker":
      return `<input class="bk-date" type="time"${elementAttrs(el, ctx)} value="${esc(current(el, ctx) || "")}">`;
    case "checkboxes": case "radio_buttons":
      return choiceList(el, ctx);
    case "plain_text_input": case "email_text_input": case "url_text_input": case "number_input":
      return textInput(el, ctx);
    case "image":
      return `<span class="bk-thumb" role="img" title="${esc(el.alt_text)}" aria-label="${esc(el.alt_text)}">🖼</span>`;
    case "mrkdwn":
    case "plain_text":
      return `<span class="bk-text">${textObject(el)}</span>`;
    default:
      return `<span class="bk-unknown inline">${esc(el.type || "element")}</span>`;
  }
}

/** The value a person entered in an element, in the form the control API takes. */
function entered(node) {
  const kind = node.dataset.kind;
  if (kind === "checkboxes") return [...node.querySelectorAll("input:checked")].map((i) => i.value);
  if (kind === "radio_buttons") {
    const on = node.querySelector("input:checked");
    return on ? on.value : null;
  }
  // An external select's options are the app's: send them whole, label included.
  const pick = (o) => (node.dataset.external ? { text: { type: "plain_text", text: o.textContent }, value: o.value } : o.value);
  if (node.multiple) return [...node.selectedOptions].map(pick);
  if (node.value === "") return null;
  return node.tagName === "SELECT" ? pick(node.selectedOptions[0]) : node.value;
}

function richInline(elements, inCode) {
  return (elements || []).map((el) => {
    let h;
    switch (el.type) {
      case "text": h = esc(el.text); break;
      case "link": h = link(el.url, el.text || el.url); break;
      case "user": h = userMention(el.user_id); break;
      case "channel": h = channelRef(el.channel_id); break;
      case "usergroup": h = `<span class="mention">@${esc(el.usergroup_id)}</span>`; break;
      case "emoji": h = emoji(el.name, el.unicode); break;
      case "broadcast": h = `<span class="mention broadcast">@${esc(el.range)}</span>`; break;
      case "date": h = slackDate(String(el.timestamp ?? ""), el.format, el.url, el.fallback); break;
      case "color": h = `<span class="color-chip" style="background:${/^#[0-9a-f]{3,8}$/i.test(el.value) ? el.value : "#ccc"}"></span>${esc(el.value)}`; break;
      default: h = `<span class="bk-unknown inline">${esc(el.type || "?")}</span>`;
    }
    const style = el.style || {};
    if (style.code && !inCode) h = `<code>${h}</code>`;
    if (style.strike) h = `<del>${h}</del>`;
    if (style.italic) h = `<em>${h}</em>`;
    if (style.bold) h = `<strong>${h}</strong>`;
    return h;
  }).join("");
}

function richElement(e) {
  switch (e.type) {
    case "rich_text_section":
      return `<div class="rt-section">${richInline(e.elements)}</div>`;
    case "rich_text_list": {
      const tag = e.style === "ordered" ? "ol" : "ul";
      const start = e.style === "ordered" && e.offset ? ` start="${Number(e.offset) + 1}"` : "";
      const items = (e.elements || []).map((s) => `<li>${richInline(s.elements)}</li>`).join("");
      return `<${tag} class="rt-list" style="margin-left:${Number(e.indent || 0) * 22}px"${start}>${items}</${tag}>`;
    }
    case "rich_text_preformatted":
      return `<pre class="code-block"><code>${richInline(e.elements, true)}</code></pre>`;
    case "rich_text_quote":
      return `<blockquote class="rt-section">${richInline(e.elements)}</blockquote>`;
    default:
      return unknown(`${e.type || "rich text"} element`);
  }
}

function block(b, ctx, index) {
  ctx = { ...ctx, block_id: b.block_id || `block-${index}`, input: false };
  switch (b.type) {
    case "section": {
      const text = b.text ? `<div class="bk-section-text">${textObject(b.text)}</div>` : "";
      const fields = b.fields
        ? `<div class="bk-fields">${b.fields.map((f) => `<div>${textObject(f)}</div>`).join("")}</div>`
        : "";
      const accessory = b.accessory ? `<div class="bk-accessory">${element(b.accessory, ctx)}</div>` : "";
      return `<div class="bk-section"><div class="bk-section-main">${text}${fields}</div>${accessory}</div>`;
    }
    case "context":
      return `<div class="bk-context">${(b.elements || []).map((el) => element(el, ctx)).join("")}</div>`;
    case "divider":
      return '<hr class="bk-divider">';
    case "header":
      return `<div class="bk-header">${plainText(b.text)}</div>`;
    case "actions":
      return `<div class="bk-actions">${(b.elements || []).map((el) => element(el, ctx)).join("")}</div>`;
    case "markdown":
      return `<div class="bk-markdown md">${markdown(b.text)}</div>`;
    case "rich_text":
      return `<div class="bk-rich">${(b.elements || []).map(richElement).join("")}</div>`;
    case "input": {
      const error = (ctx.errors || {})[ctx.block_id];
      const hint = b.hint ? `<div class="bk-hint">${plainText(b.hint)}</div>` : "";
      const optional = b.optional ? ' <span class="bk-optional">(optional)</span>' : "";
      return `<div class="bk-input${error ? " has-error" : ""}" data-input-block="${esc(ctx.block_id)}">` +
        `<label class="bk-label">${plainText(b.label)}${optional}</label>${element(b.element, { ...ctx, input: true })}${hint}` +
        (error ? `<div class="bk-error" role="alert">${esc(error)}</div>` : "") + "</div>";
    }
    case "image": {
      const title = b.title ? `<div class="bk-image-title">${plainText(b.title)}</div>` : "";
      return `${title}<div class="bk-image" role="img" aria-label="${esc(b.alt_text)}"><span class="bk-image-icon">🖼</span><span>${esc(b.alt_text || "image")}</span></div>`;
    }
    default:
      return unknown(`block: ${b.type || "?"}`);
  }
}

function blocks(list, ctx) {
  return (list || []).map((b, index) => {
    try {
      return block(b || {}, ctx, index);
    } catch (err) {
      return unknown(`block (${err && err.message ? err.message : "error"})`);
    }
  }).join("");
}

export { blocks, entered, optionValue, plainText, textObject, usePage };
