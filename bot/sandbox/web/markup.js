/* Text markup for the sandbox's page: Slack's mrkdwn (ordinary messages, mrkdwn text
 * objects), the Markdown that streamed answers and markdown blocks use, and the small helpers
 * both need. Pure functions of their input; mentions are drawn by the page (useNames), which
 * knows the workspace. All text is escaped before it is drawn: markup is only ever produced
 * here and by the Block Kit renderer (blocks.js). */

const HTML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
const decode = (text) =>
  String(text ?? "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
const SAFE_URL = /^(https?:|mailto:)/i;

const EMOJI = {
  "+1": "👍", thumbsup: "👍", "-1": "👎", thumbsdown: "👎", warning: "⚠️",
  white_check_mark: "✅", heavy_check_mark: "✔️", check: "✔️", x: "❌", tada: "🎉",
  rocket: "🚀", eyes: "👀", bulb: "💡", heart: "❤️", smile: "😄", slightly_smiling_face: "🙂",
  wave: "👋", memo: "📝", robot_face: "🤖", hourglass: "⌛", hourglass_flowing_sand: "⏳",
  stopwatch: "⏱️", sparkles: "✨", fire: "🔥", star: "⭐", mag: "🔍", lock: "🔒",
  key: "🔑", gear: "⚙️", wrench: "🔧", hammer_and_wrench: "🛠️", books: "📚", book: "📖",
  pushpin: "📌", link: "🔗", speech_balloon: "💬", thinking_face: "🤔", brain: "🧠",
  information_source: "ℹ️", question: "❓", exclamation: "❗", no_entry: "⛔",
  red_circle: "🔴", large_green_circle: "🟢", large_yellow_circle: "🟡", clipboard: "📋",
  calendar: "📅", chart_with_upwards_trend: "📈", bar_chart: "📊", moneybag: "💰",
  raised_hands: "🙌", pray: "🙏", ok_hand: "👌", point_right: "👉", muscle: "💪",
  joy: "😂", sweat_smile: "😅", stop_sign: "🛑", arrows_counterclockwise: "🔄",
  package: "📦", bell: "🔔", zap: "⚡", house: "🏠", wastebasket: "🗑️", pencil2: "✏️",
  construction: "🚧", green_heart: "💚", octagonal_sign: "🛑", hand: "✋", ballot_box_with_check: "☑️",
};
const emoji = (name, unicode) => {
  if (unicode && /^[0-9a-f-]+$/i.test(unicode)) {
    try {
      return esc(String.fromCodePoint(...unicode.split("-").map((h) => parseInt(h, 16))));
    } catch (_) { /* fall through to the name */ }
  }
  const found = EMOJI[String(name).replace(/::skin-tone-\d$/, "")];
  return found ? `<span class="emoji">${found}</span>` : esc(`:${name}:`);
};
const emojiNames = (escaped) =>
  escaped.replace(/:([a-z0-9_+'-]+):/gi, (all, name) => (EMOJI[name] ? emoji(name) : all));

// Placeholders keep finished markup out of the way of later regular expressions.
class Holder {
  constructor() { this.parts = []; }
  keep(html) { this.parts.push(html); return `\u0000${this.parts.length - 1}\u0000`; }
  restore(text) {
    let out = text;
    for (let i = 0; i < 3 && out.includes("\u0000"); i++) {
      out = out.replace(/\u0000(\d+)\u0000/g, (_, n) => this.parts[Number(n)] ?? "");
    }
    return out;
  }
}
// Mentions are drawn by the page, which knows the workspace's people and channels.
const names = {
  user: (id, fallback) => `<span class="mention">@${esc(fallback || id)}</span>`,
  channel: (id, fallback) => `<span class="mention channel-ref">#${esc(fallback || id)}</span>`,
};
/** How to draw <@U…> and <#C…> (each gets the id and the label the sequence carried). */
function useNames(drawers) { Object.assign(names, drawers); }
const userMention = (id) => names.user(id);
const channelRef = (id) => names.channel(id);

const link = (url, text) => {
  const label = esc(text ?? url);
  if (!SAFE_URL.test(String(url).trim())) return label;
  return `<a href="${esc(String(url).trim())}" target="_blank" rel="noopener noreferrer">${label}</a>`;
};
// Slack's <!date^seconds^format^link|fallback>, drawn as Slack's client draws it: in the
// viewer's time zone, with "today", "yesterday" and "tomorrow" where a token is "pretty"
// (capitalised at the start); a format with an unknown token shows the fallback.
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December"];
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const ordinal = (n) => {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  return `${n}${teen ? "th" : { 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th"}`;
};
const twoDigits = (n) => String(n).padStart(2, "0");
const dayNumber = (d) => Math.round(new Date(d.getFullYear(), d.getMonth(), d.getDate()) / 86400000);

function ago(at, now) {
  const seconds = Math.round((at - now) / 1000);
  const steps = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];
  const [unit, size] = steps.find(([, n]) => Math.abs(seconds) >= n) || ["second", 1];
  return new Intl.RelativeTimeFormat("en", { numeric: "auto" }).format(Math.round(seconds / size), unit);
}

function dateTokens(at, now) {
  const month = MONTHS[at.getMonth()];
  const year = at.getFullYear();
  const date = `${month} ${ordinal(at.getDate())}, ${year}`;
  const short = `${month.slice(0, 3)} ${at.getDate()}, ${year}`;
  const long = `${WEEKDAYS[at.getDay()]}, ${date}`;
  const near = { "-1": "yesterday", 0: "today", 1: "tomorrow" }[dayNumber(at) - dayNumber(now)];
  const thisYear = `${WEEKDAYS[at.getDay()]}, ${month} ${ordinal(at.getDate())}`;
  return {
    date_num: `${year}-${twoDigits(at.getMonth() + 1)}-${twoDigits(at.getDate())}`,
    date_slash: `${twoDigits(at.getDate())}/${twoDigits(at.getMonth() + 1)}/${year}`,
    date, date_short: short, date_long: long, date_long_full: `${month} ${at.getDate()}, ${year}`,
    date_pretty: near || date, date_short_pretty: near || short, date_long_pretty: near || long,
    day_divider_pretty: near || (year === now.getFullYear() ? thisYear : long),
    time: at.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit" }),
    time_secs: at.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit", second: "2-digit" }),
    ago: ago(at, now),
  };
}

function slackDate(seconds, format, url, fallback) {
  const at = new Date(Number(seconds) * 1000);
  if (!format || !/^-?\d+(\.\d+)?$/.test(seconds) || Number.isNaN(at.getTime())) return esc(fallback || "");
  const tokens = dateTokens(at, new Date());
  let known = true;
  const text = format.replace(/\{(\w+)\}/g, (whole, name, offset) => {
    if (!(name in tokens)) known = false;
    const value = tokens[name] || whole;
    return offset === 0 ? value.charAt(0).toUpperCase() + value.slice(1) : value;
  });
  if (!known) return esc(fallback || format);
  const drawn = `<time datetime="${esc(at.toISOString())}" title="${esc(fallback || at.toString())}">${esc(text)}</time>`;
  return url && SAFE_URL.test(url) ? `<a href="${esc(url)}" target="_blank" rel="noopener noreferrer">${drawn}</a>` : drawn;
}

/** A Slack control sequence such as <@U1>, <#C1|general>, <!here> or <url|text>. */
const controlSequence = (inner) => {
  const [target, ...rest] = inner.split("|");
  const label = rest.length ? decode(rest.join("|")) : null;
  if (target.startsWith("@")) return names.user(target.slice(1), label);
  if (target.startsWith("#")) return names.channel(target.slice(1), label);
  if (target.startsWith("!")) {
    const word = target.slice(1);
    if (["here", "channel", "everyone"].includes(word)) {
      return `<span class="mention broadcast">@${esc(word)}</span>`;
    }
    if (word.startsWith("subteam^")) return `<span class="mention">${esc(label || "@group")}</span>`;
    if (word.startsWith("date^")) {
      const [, seconds, format, url] = word.split("^");
      return slackDate(seconds, decode(format), decode(url || ""), label);
    }
    return esc(label || word.replace(/\^.*$/, ""));
  }
  return link(decode(target), label ?? decode(target));
};

// ---------------------------------------------------------------------------------------
// mrkdwn: Slack's own markup, for ordinary messages and mrkdwn text objects
// ---------------------------------------------------------------------------------------

const URL_RE = /\bhttps?:\/\/[^\s<>\u0000]+[^\s<>\u0000.,;:!?)\]'"]/g;

/** Pairs of marks around text, e.g. *bold*; a mark inside a word does not count. */
const emphasis = (escaped, marks) => {
  let s = escaped;
  for (const [mark, open, close] of marks) {
    const ch = `\\${mark[0]}`;
    const m = mark.split("").map((x) => `\\${x}`).join("");
    const re = new RegExp(
      `(^|[^\\w${ch}])${m}(?=[^\\s${ch}])([^\\n]*?[^\\s${ch}]|[^\\s${ch}])${m}(?![\\w${ch}])`, "g");
    s = s.replace(re, (_, before, inner) => `${before}${open}${inner}${close}`);
  }
  return s;
};
const MRKDWN_MARKS = [["*", "<strong>", "</strong>"], ["_", "<em>", "</em>"], ["~", "<del>", "</del>"]];

function mrkdwn(text) {
  const hold = new Holder();
  let s = String(text ?? "");
  s = s.replace(/```([\s\S]*?)```/g, (_, code) =>
    hold.keep(`<pre class="code-block"><code>${esc(decode(code.replace(/^\n/, "")))}</code></pre>`));
  s = s.replace(/`([^`\n]+)`/g, (_, code) => hold.keep(`<code>${esc(decode(code))}</code>`));
  s = s.replace(/<([^<>\n]+)>/g, (_, inner) => hold.keep(controlSequence(inner)));
  s = s.replace(URL_RE, (url) => hold.keep(link(decode(url), decode(url))));
  s = emojiNames(emphasis(esc(decode(s)), MRKDWN_MARKS));
  return hold.restore(mrkdwnLines(s));
}

/** Quotes (> …) and bullet lines; other line breaks are kept as they are. */
function mrkdwnLines(s) {
  const out = [];
  let quote = [];
  let list = [];
  const flush = () => {
    if (quote.length) out.push(`<blockquote>${quote.join("<br>")}</blockquote>`);
    if (list.length) out.push(`<ul class="mrkdwn-list">${list.map((l) => `<li>${l}</li>`).join("")}</ul>`);
    quote = [];
    list = [];
  };
  let plain = [];
  const flushPlain = () => {
    if (plain.length) out.push(`<div class="line-group">${plain.join("<br>")}</div>`);
    plain = [];
  };
  for (const line of s.split("\n")) {
    const q = line.match(/^&gt;\s?(.*)$/);
    const b = line.match(/^\s*(?:•|◦|-)\s+(.*)$/);
    if (q) {
      flushPlain();
      if (list.length) flush();
      quote.push(q[1]);
    } else if (b) {
      flushPlain();
      if (quote.length) flush();
      list.push(b[1]);
    } else {
      flush();
      plain.push(line);
    }
  }
  flush();
  flushPlain();
  return out.join("");
}

// ---------------------------------------------------------------------------------------
// Markdown: what the bot streams (chat.startStream / appendStream) and markdown blocks
// ---------------------------------------------------------------------------------------

function inlineMarkdown(text) {
  const hold = new Holder();
  let s = String(text ?? "");
  s = s.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (_, _ticks, code) =>
    hold.keep(`<code>${esc(code.replace(/^ (.*) $/, "$1"))}</code>`));
  s = s.replace(/!?\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g, (_, label, url) =>
    hold.keep(SAFE_URL.test(url)
      ? `<a href="${esc(url)}" target="_blank" rel="noopener noreferrer">${emojiNames(emphasis(esc(label), MD_MARKS))}</a>`
      : esc(label)));
  s = s.replace(/<((?:@|#|!)[^<>\s]+|(?:https?:|mailto:)[^<>\s]+)>/g, (_, inner) =>
    hold.keep(controlSequence(inner)));
  s = s.replace(URL_RE, (url) => hold.keep(link(url, url)));
  return hold.restore(emojiNames(emphasis(esc(s), MD_MARKS)));
}
const MD_MARKS = [["***", "<strong><em>", "</em></strong>"], ["**", "<strong>", "</strong>"],
  ["__", "<strong>", "</strong>"], ["~~", "<del>", "</del>"], ["*", "<em>", "</em>"],
  ["_", "<em>", "</em>"]];

const LIST_RE = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const FENCE_RE = /^\s*(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/;
const TABLE_RULE = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;
const indentOf = (line) => line.match(/^\s*/)[0].replace(/\t/g, "    ").length;
const isBlockStart = (line, next) =>
  FENCE_RE.test(line) || /^\s{0,3}#{1,6}\s/.test(line) || /^\s*>/.test(line) ||
  LIST_RE.test(line) || /^\s*([-*_])(\s*\1){2,}\s*$/.test(line) ||
  (line.includes("|") && next !== undefined && TABLE_RULE.test(next));

function codeBlock(lang, body) {
  const label = lang ? `<div class="code-lang">${esc(lang)}</div>` : "";
  return `<div class="code-block">${label}<pre><code>${esc(body)}</code></pre></div>`;
}

function markdown(source) {
  const lines = String(source ?? "").replace(/\r\n?/g, "\n").split("\n");
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = line.match(FENCE_RE);
    if (fence) {
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i++; // the closing fence (absent while the answer is still streaming)
      out.push(codeBlock(fence[2], body.join("\n")));
      continue;
    }
    if (!line.trim()) { i++; continue; }
    const heading = line.match(/^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/);
    if (heading) {
      const level = heading[1].length;
      out.push(`<h${level} class="md-h">${inlineMarkdown(heading[2])}</h${level}>`);
      i++;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { out.push("<hr>"); i++; continue; }
    if (/^\s*>/.test(line)) {
      const quoted = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) quoted.push(lines[i++].replace(/^\s*>\s?/, ""));
      out.push(`<blockquote>${markdown(quoted.join("\n"))}</blockquote>`);
      continue;
    }
    if (LIST_RE.test(line)) {
      const list = parseList(lines, i, indentOf(line));
      out.push(list.html);
      i = list.next;
      continue;
    }
    if (line.includes("|") && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1])) {
      const table = parseTable(lines, i);
      out.push(table.html);
      i = table.next;
      continue;
    }
    const para = [line];
    i++;
    while (i < lines.length && lines[i].trim() && !isBlockStart(lines[i], lines[i + 1])) para.push(lines[i++]);
    out.push(`<p>${para.map((l) => inlineMarkdown(l.trim())).join("<br>")}</p>`);
  }
  return out.join("");
}

function parseList(lines, start, base) {
  const first = lines[start].match(LIST_RE);
  const ordered = /\d/.test(first[2]);
  const items = [];
  let i = start;
  while (i < lines.length) {
    const line = lines[i];
    const m = line.match(LIST_RE);
    const indent = indentOf(line);
    if (m && indent === base && /\d/.test(m[2]) === ordered) {
      items.push({ text: [m[3]], children: [] });
      i++;
    } else if (m && indent > base && items.length) {
      const nested = parseList(lines, i, indent);
      items[items.length - 1].children.push(nested.html);
      i = nested.next;
    } else if (line.trim() && indent > base && items.length && !FENCE_RE.test(line)) {
      items[items.length - 1].text.push(line.trim());
      i++;
    } else if (line.trim() && indent > base && items.length) {
      const fence = line.match(FENCE_RE);
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++].slice(indent));
      i++;
      items[items.length - 1].children.push(codeBlock(fence[2], body.join("\n")));
    } else if (!line.trim()) {
      const next = lines[i + 1];
      if (next !== undefined && next.trim() && (indentOf(next) > base || (LIST_RE.test(next) && indentOf(next) === base))) {
        i++;
      } else break;
    } else break;
  }
  const tag = ordered ? "ol" : "ul";
  const startAt = ordered ? parseInt(first[2], 10) : 1;
  const attr = ordered && startAt !== 1 ? ` start="${startAt}"` : "";
  const body = items.map((item) => {
    let text = item.text.map(inlineMarkdown).join("<br>");
    text = text.replace(/^\[( |x|X)\]\s/, (_, x) => (x === " " ? "☐ " : "☑ "));
    return `<li>${text}${item.children.join("")}</li>`;
  }).join("");
  return { html: `<${tag} class="md-list"${attr}>${body}</${tag}>`, next: i };
}

function parseTable(lines, start) {
  const cells = (line) => line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
  const head = cells(lines[start]);
  let i = start + 2;
  const rows = [];
  while (i < lines.length && lines[i].includes("|") && lines[i].trim()) rows.push(cells(lines[i++]));
  const th = head.map((c) => `<th>${inlineMarkdown(c)}</th>`).join("");
  const tb = rows.map((r) => `<tr>${r.map((c) => `<td>${inlineMarkdown(c)}</td>`).join("")}</tr>`).join("");
  return { html: `<table class="md-table"><thead><tr>${th}</tr></thead><tbody>${tb}</tbody></table>`, next: i };
}

export {
  SAFE_URL, channelRef, decode, emoji, emojiNames, esc, link, markdown, mrkdwn, slackDate, useNames,
  userMention,
};
