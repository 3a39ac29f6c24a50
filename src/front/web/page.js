// The picture of the cluster, live: frames arrive as Server-Sent Events from the session and are
// drawn here. Elements are kept by name between frames, so new messages animate in, markers
// slide to their new offsets, and partitions fly from one member to another on a rebalance.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
/// Only what arrives after the first frame animates in.
let drawnOnce = false;

const KEY_COLOURS = ["#5fd0ff", "#ff7ad9", "#ffd24d", "#6ee77a", "#9b8cff", "#ff8f66",
                     "#4ee0c6", "#f2a8ff", "#c6e04e", "#ffb3b3", "#8fb8ff", "#e0c08f"];

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/// The child of `parent` with `data-NAME=value`, made by `make` if it is not there yet.
function keep(parent, name, value, make) {
  const found = parent.querySelector(`:scope > [data-${name}="${CSS.escape(String(value))}"]`);
  if (found) return found;
  const made = make();
  made.dataset[name] = value;
  parent.appendChild(made);
  return made;
}

/// Remove children of `parent` with a `data-NAME` not in `wanted`.
function prune(parent, name, wanted) {
  for (const child of [...parent.children]) {
    if (child.dataset[name] !== undefined && !wanted.has(child.dataset[name])) child.remove();
  }
}

function tag(index) {
  if (index < 26) return String.fromCharCode(65 + index);
  if (index < 52) return String.fromCharCode(97 + index - 26);
  return "*";
}

/// Text with `code` spans, as the lesson writes them, appended to `node` as <code> elements.
function withCode(node, text) {
  text.split("`").forEach((part, i) => node.append(i % 2 ? element("code", "", part) : part));
  return node;
}

function drawLesson(lesson) {
  const box = $("#lesson");
  box.hidden = !lesson;
  if (!lesson) return;
  box.replaceChildren(element("span", "", `${lesson.heading} · step ${lesson.step}/${lesson.steps}`));
  if (lesson.goal) box.append(" · ", withCode(element("span", "goal", "your turn: "), lesson.goal));
}

function drawPartition(box, partition, cellWidth, keys) {
  const row = keep(box, "part", "row", () => {
    const row = element("div", "row");
    const track = element("div", "track");
    track.append(element("div", "cells"), element("div", "markers"));
    row.append(element("span", "before"), track, element("span", "end"), element("span", "owners"));
    return row;
  });
  // The end and the owners first: the cells get the width they leave.
  const end = $(".end", row);
  end.dataset.end = partition.end;
  end.innerHTML = "";
  end.append("end ", element("b", "", String(partition.end)));
  const owners = $(".owners", row);
  owners.replaceChildren(...partition.owners.map((o) => {
    const owner = element("span", o.killed ? "owner killed" : "owner", `${o.group}: ${o.owner}${o.killed ? " (killed, nobody reads)" : ""}`);
    owner.dataset.group = o.group;
    owner.dataset.owner = o.owner;
    return owner;
  }));
  // As many of the last cells as fit; the rest are counted before them. Owners too long to
  // share the line wrap under it, and the cells take the line.
  const rem = cellWidth / 2.4;
  const counted = `${partition.start > 0 ? `${partition.start} deleted · ` : ""}+${partition.end - partition.start}`;
  const beside = counted.length * 0.5 * rem + end.offsetWidth + 2.4 * rem;
  let room = box.clientWidth - beside - owners.offsetWidth - 0.6 * rem;
  if (room < 8 * (cellWidth + 2)) room = box.clientWidth - beside;
  const fit = Math.max(4, Math.floor(room / (cellWidth + 2)));
  partition = { ...partition, cells: partition.cells.slice(-fit) };
  const first = partition.cells.length ? partition.cells[0].offset : partition.end;
  const before = first - partition.start;
  $(".before", row).textContent =
    (partition.start > 0 ? `${partition.start} deleted · ` : "") + (before > 0 ? `+${before}` : "");
  const cells = $(".cells", row);
  const wanted = new Set(partition.cells.map((c) => String(c.offset)));
  prune(cells, "offset", wanted);
  const last = partition.cells.length ? partition.cells[partition.cells.length - 1].offset : -1;
  for (const cell of partition.cells) {
    let node = cells.querySelector(`[data-offset="${cell.offset}"]`);
    if (!node) {
      node = element("span", drawnOnce ? "cell new" : "cell");
      node.dataset.offset = cell.offset;
      node.addEventListener("animationend", () => node.classList.remove("new"), { once: true });
      cells.appendChild(node);
    }
    // The first and last offsets drawn, and every tenth, say where they are.
    const labelled = cell.offset === first || cell.offset === last || cell.offset % 10 === 0;
    if (labelled) node.dataset.label = cell.offset;
    else delete node.dataset.label;
    const key = cell.gone ? "removed by compaction" : cell.key === null ? "no key" : `key ${cell.key < keys.length ? keys[cell.key] : "(one of many)"}`;
    node.title = `offset ${cell.offset} · ${key}`;
    node.classList.toggle("gone", cell.gone);
    node.classList.toggle("nokey", !cell.gone && cell.key === null);
    node.textContent = cell.gone ? "x" : cell.key === null ? "·" : tag(cell.key);
    node.style.background = !cell.gone && cell.key !== null ? KEY_COLOURS[cell.key % KEY_COLOURS.length] : "";
  }
  const markers = $(".markers", row);
  const place = (offset) => `${Math.max(0, offset - first) * (cellWidth + 2)}px`;
  // A marker before the first cell drawn points left, saying so.
  const label = (node, offset, text) => {
    node.classList.toggle("before", offset < first);
    node.textContent = offset < first ? `◂ ${text} (before the cells shown)` : text;
  };
  const ids = new Set();
  let line = 0;
  for (const mark of partition.committed) {
    const id = `commit-${mark.group}`;
    ids.add(id);
    const node = keep(markers, "marker", id, () => element("span", "marker commit"));
    node.style.left = place(mark.offset ?? first);
    node.style.top = `${1.25 * line++}rem`;
    label(node, mark.offset ?? first, mark.offset === null ? `${mark.group}: no commit yet` : `${mark.group} ${mark.offset} · lag ${mark.lag}`);
  }
  for (const position of partition.positions) {
    const id = `position-${position.consumer}`;
    ids.add(id);
    const node = keep(markers, "marker", id, () => element("span", "marker position"));
    node.style.left = place(position.offset);
    node.style.top = `${1.25 * line++}rem`;
    label(node, position.offset, `${position.consumer} reads ${position.offset}`);
  }
  prune(markers, "marker", ids);
  markers.style.height = `${(partition.committed.length + partition.positions.length) * 1.25}rem`;
}

/// Whether there is replication to draw: more than one broker, or a partition with several copies.
function replicated(picture) {
  return picture.brokers.length > 1 || picture.topics.some((t) => t.partitions.some((p) => p.replication.replicas.length > 1));
}

function drawBrokers(picture) {
  const strip = $("#brokers");
  strip.hidden = !replicated(picture);
  strip.replaceChildren(...picture.brokers.map((b) => {
    const text = b.up ? `broker ${b.id} · leads ${b.leads}` : `broker ${b.id} · down${b.down_seconds === null ? "" : ` ${b.down_seconds} s`}`;
    return element("span", b.up ? "broker" : "broker down", text);
  }));
}

/// `leader 2 · replicas 1 2 3 · in sync 2 3`, a node that is down struck through, and the flags.
function drawReplication(box, replication, picture) {
  const line = keep(box, "part", "replicas", () => element("div", "replicas"));
  line.hidden = !replicated(picture);
  const down = (id) => picture.brokers.some((b) => b.id === id && !b.up);
  const node = (id) => {
    const classes = ["node"];
    if (id === replication.leader) classes.push("leader");
    if (!replication.isr.includes(id)) classes.push("out");
    if (down(id)) classes.push("down");
    const span = element("span", classes.join(" "), String(id));
    span.title = `broker ${id}${id === replication.leader ? ", the leader" : ""}${replication.isr.includes(id) ? ", in sync" : ", not in sync"}${down(id) ? ", down" : ""}`;
    return span;
  };
  const parts = [replication.leader < 0 ? "no leader" : `leader ${replication.leader}`, " · replicas "];
  line.replaceChildren(...parts, ...replication.replicas.map(node), ` · in sync ${replication.isr.join(" ") || "none"}`);
  if (replication.elr && replication.elr.length) line.append(` · eligible ${replication.elr.join(" ")}`);
  for (const flag of replication.flags) line.append(element("span", `flag ${flag}`, flag.replaceAll("-", " ").replace("isr", "ISR")));
}

function drawTopics(picture) {
  const root = $("#topics");
  const cellWidth = parseFloat(getComputedStyle(document.documentElement).fontSize) * 2.4;
  prune(root, "topic", new Set(picture.topics.map((t) => t.name)));
  for (const topic of picture.topics) {
    const section = keep(root, "topic", topic.name, () => {
      const section = element("div", "topic");
      section.append(element("h2"), element("div", "partitions"));
      return section;
    });
    $("h2", section).textContent = `${topic.name} `;
    const min = replicated(picture) && topic.min_insync !== null ? ` · min.insync.replicas ${topic.min_insync}` : "";
    $("h2", section).append(element("span", "dim", `· ${topic.partitions.length} partition(s)${min}`));
    const list = $(".partitions", section);
    prune(list, "partition", new Set(topic.partitions.map((p) => String(p.partition))));
    for (const partition of topic.partitions) {
      const box = keep(list, "partition", partition.partition, () => {
        const box = element("div", "partition");
        box.append(element("span", "plabel", `p${partition.partition}`), element("div", "log"));
        return box;
      });
      drawPartition($(".log", box), partition, cellWidth, picture.keys);
      drawReplication($(".log", box), partition.replication, picture);
    }
  }
}

/// Where each chip is now, to animate it to wherever the next frame puts it.
function chipPlaces() {
  const places = new Map();
  for (const chip of document.querySelectorAll(".chip")) places.set(chip.dataset.chip + "@" + chip.closest(".group").dataset.group, chip.getBoundingClientRect());
  return places;
}

function flyChips(before) {
  for (const chip of document.querySelectorAll(".chip")) {
    const was = before.get(chip.dataset.chip + "@" + chip.closest(".group").dataset.group);
    if (!was) continue;
    const now = chip.getBoundingClientRect();
    const dx = was.left - now.left, dy = was.top - now.top;
    if (dx || dy) chip.animate([{ transform: `translate(${dx}px, ${dy}px)` }, { transform: "none" }], { duration: 600, easing: "ease-in-out" });
  }
}

function drawGroups(picture) {
  const root = $("#groups");
  const before = chipPlaces();
  prune(root, "group", new Set(picture.groups.map((g) => g.name)));
  for (const group of picture.groups) {
    const section = keep(root, "group", group.name, () => {
      const section = element("div", "group");
      section.append(element("h2"), element("div", "facts"), element("div", "members"));
      return section;
    });
    $("h2", section).textContent = `group ${group.name}`;
    const facts = [group.state];
    if (group.assignor) facts.push(`assignor ${group.assignor}`);
    if (group.generation !== null) facts.push(`generation ${group.generation}`);
    if (group.lag !== null) facts.push(`lag ${group.lag}`);
    $(".facts", section).textContent = facts.join(" · ");
    const members = $(".members", section);
    const names = new Set(group.members.map((m) => m.name ?? m.id));
    prune(members, "member", names);
    for (const member of group.members) {
      const name = member.name ?? member.id;
      const box = keep(members, "member", name, () => {
        const box = element("div", "member");
        box.append(element("div", "name"), element("div", "countdown"), element("div", "chips"));
        return box;
      });
      $(".name", box).textContent = name;
      const dying = group.dying.find((d) => d.consumer === member.name);
      box.classList.toggle("dead", Boolean(dying));
      $(".countdown", box).textContent = dying ? `killed · the group notices in ${dying.seconds_left.toFixed(1)} s` : "";
      const chips = $(".chips", box);
      const owned = [];
      for (const [topic, ids] of Object.entries(member.assignment ?? {})) for (const id of ids) owned.push(`${topic}[${id}]`);
      prune(chips, "chip", new Set(owned));
      for (const partition of owned) {
        const existing = document.querySelector(`.group[data-group="${CSS.escape(group.name)}"] .chip[data-chip="${CSS.escape(partition)}"]`);
        if (existing && existing.parentElement !== chips) existing.remove();
        keep(chips, "chip", partition, () => element("span", "chip", partition));
      }
      if (member.assignment === null) chips.replaceChildren(element("span", "dim", "(the cluster does not say)"));
    }
  }
  flyChips(before);
}

/// The keys of the cells on the page, each with its letter; a key keeps its letter for the
/// session, so the legend lists only the letters drawn.
function drawKeys(picture) {
  const drawn = new Set(picture.topics.flatMap((t) => t.partitions.flatMap((p) => p.cells.filter((c) => !c.gone && c.key !== null).map((c) => c.key))));
  const items = [...drawn].sort((a, b) => a - b).map((i) => {
    const item = element("span", "", i < picture.keys.length ? `${tag(i)} = ${picture.keys[i]}` : "* = any other key");
    item.style.color = KEY_COLOURS[i % KEY_COLOURS.length];
    return item;
  });
  $("#keys").replaceChildren(...items);
}

function draw(frame) {
  const picture = frame.picture;
  window.kafkaWorkshopFrame = frame;
  drawLesson(picture.lesson);
  drawBrokers(picture);
  drawTopics(picture);
  drawGroups(picture);
  drawKeys(picture);
  $("#empty").hidden = picture.topics.length > 0 || picture.groups.length > 0;
  drawnOnce = true;
}

function logEvent(event) {
  let text;
  switch (event.kind) {
    case "assigned":
      text = `${event.actor} ← assigned ${partitions(event.partitions)}`;
      if (partitions(event.holds) !== partitions(event.partitions)) text += `, now holds ${partitions(event.holds)}`;
      break;
    case "revoked":
      text = `${event.actor} → revoked ${partitions(event.partitions)}`;
      if (Object.keys(event.keeps).length > 0) text += `, keeps ${partitions(event.keeps)}`;
      break;
    case "message": text = `${event.actor} ▸ ${event.record.topic}[${event.record.partition}]@${event.record.offset}`; break;
    case "said": text = `${event.actor} ${event.text}`; break;
    case "announcement": text = `📣 ${event.from}: ${event.text}`; break;
    default: return;
  }
  const item = element("li", event.warning ? "warning" : "", text);
  const log = $("#log");
  log.prepend(item);
  while (log.children.length > 8) log.lastChild.remove();
}

function partitions(map) {
  const parts = Object.entries(map).filter(([, ids]) => ids.length).map(([t, ids]) => `${t}[${ids.join(",")}]`);
  return parts.length ? parts.join(" ") : "none";
}

function connect() {
  const status = $("#status");
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => { status.textContent = "live"; status.classList.add("live"); });
  source.addEventListener("state", (e) => draw(JSON.parse(e.data)));
  source.addEventListener("event", (e) => logEvent(JSON.parse(e.data)));
  source.addEventListener("error", () => { status.textContent = "reconnecting…"; status.classList.remove("live"); });
}

connect();
