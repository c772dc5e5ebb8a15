/* The live parts of a page ([data-live]: htmx fragments with hx-trigger="linli:live") are refreshed when the
   person's live stream (notify's server-sent events) says something happened for them, not on a timer.
   The browser holds no token: it asks the pages' server for a one-use ticket (POST /live/ticket) and opens the
   stream with it. When the stream ends (after 15 minutes) or breaks, it asks again and resumes after the last
   message it saw, so nothing is missed; the parts are refreshed once each time the stream opens. While there is
   no stream (no EventSource, the ticket refused, the network gone) the parts refresh every 4 s, as before; and
   once a minute in any case, for what changes without a message to this person. A part is not refreshed while
   the person is typing in it (a decline reason, a corrected room): it is refreshed when they leave it. What a
   message says is put in a polite live region (#live-news), so that a screen reader reads it out. */
(function () {
  var parts = function () { return document.querySelectorAll('[data-live]'); };
  if (!parts().length) return;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var news = document.getElementById('live-news');
  var body = document.body.dataset;
  var lastId = null, retry = 1000, polling = null, pending = null;
  var refresh = function () {
    if (pending || !window.htmx) return;
    pending = setTimeout(function () {  // a burst of messages is one refresh
      pending = null;
      body.liveRefreshes = String(Number(body.liveRefreshes || 0) + 1);
      parts().forEach(function (part) {
        if (typing(part)) stale(part); else window.htmx.trigger(part, 'linli:live');
      });
    }, 150);
  };
  var stale = function (part) {  // never under the person's fingers: what is half typed stays; it refreshes after
    if (part.dataset.stale) return;
    part.dataset.stale = '1';
    part.addEventListener('focusout', function later(event) {
      if (part.contains(event.relatedTarget)) return;
      part.removeEventListener('focusout', later);
      delete part.dataset.stale;
      window.htmx.trigger(part, 'linli:live');
    });
  };
  document.body.addEventListener('htmx:beforeSwap', function (event) {  // an answer that came while they typed
    var part = event.detail.target;
    if (part && part.hasAttribute && part.hasAttribute('data-live') && typing(part)) {
      event.detail.shouldSwap = false;
      stale(part);
    }
  });
  var typing = function (part) {
    var active = document.activeElement;
    return active && part.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) &&
      active.type !== 'hidden' && active.type !== 'submit' && active.type !== 'button';
  };
  var poll = function (on) {
    if (on && !polling) polling = setInterval(refresh, 4000);
    if (!on && polling) { clearInterval(polling); polling = null; }
  };
  var again = function () {
    body.live = 'off';
    poll(true);
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 30000);
  };
  var connect = function () {
    if (!window.EventSource || !window.fetch) { body.live = 'off'; poll(true); return; }
    fetch('/live/ticket', {method: 'POST', credentials: 'same-origin',
                           headers: {'X-CSRFToken': meta ? meta.content : '', 'Accept': 'application/json'}})
      .then(function (answer) { if (!answer.ok) throw new Error(String(answer.status)); return answer.json(); })
      .then(function (ticket) {
        var url = ticket.stream + (lastId !== null ? '&last_event_id=' + encodeURIComponent(lastId) : '');
        if (lastId === null) lastId = String(ticket.after);
        var source = new EventSource(url);
        source.onopen = function () { retry = 1000; poll(false); body.live = 'on'; refresh(); };
        source.onmessage = function (event) {
          if (event.lastEventId) lastId = event.lastEventId;
          try {  // a screen reader says what came, in the person's language (notify wrote it so)
            var message = JSON.parse(event.data);
            var colon = document.documentElement.lang.indexOf('zh') === 0 ? '：' : ': ';
            if (news && message.title) news.textContent = message.title + (message.body ? colon + message.body : '');
          } catch (e) { /* a message we cannot read still refreshes the page */ }
          body.liveMessages = String(Number(body.liveMessages || 0) + 1);
          refresh();
        };
        source.onerror = function () { source.close(); again(); };  // a used ticket cannot reopen it: a new one
      })
      .catch(again);
  };
  setInterval(refresh, 60000);
  poll(true);  // until the stream has opened (a proxy that holds it back never lets it): as before, every 4 s
  connect();
})();
