// Shared helpers of feint ui's pages (plain JavaScript, no build step).
"use strict";

// GET a JSON endpoint; a 4xx/5xx answer becomes an Error carrying the server's one-line message.
async function getJSON(url, options) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || body.detail || response.statusText);
  return body;
}

// The URL of an image file's thumbnail (served only from the folders feint ui was given).
function thumbURL(path, size, boxes) {
  const q = new URLSearchParams({ path: path, size: String(size || 192) });
  if (boxes) q.set("boxes", "1");
  return "/thumb?" + q.toString();
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
