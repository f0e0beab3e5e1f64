// parley's desk: the only script, and only an improvement. Every page works without it.
// 1. Times: <time datetime> shows UTC from the server; here it becomes the browser's zone,
//    and the UTC text stays as the hover title.
// 2. The inbox follows /api/v1/alerts/stream (Server-Sent Events). On each alert it fetches
//    the inbox again with the current filters and swaps in the server-rendered table, so
//    escaping and filtering stay on the server and no feed text is put together here.
'use strict';
(function () {
  function localTimes(root) {
    root.querySelectorAll('time[datetime]').forEach(function (t) {
      var d = new Date(t.getAttribute('datetime'));
      if (isNaN(d.getTime())) return;
      t.textContent = d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    });
  }
  localTimes(document);

  var inbox = document.getElementById('inbox');
  var status = document.getElementById('live');
  if (!inbox || !status || !window.EventSource || !window.fetch) return;

  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = doc.getElementById('inbox');
        var freshStatus = doc.getElementById('live');
        var current = document.getElementById('inbox');
        if (!fresh || !current) return;
        var known = {};
        current.querySelectorAll('tr[data-alert]').forEach(function (row) { known[row.dataset.alert] = true; });
        var added = 0;
        fresh.querySelectorAll('tr[data-alert]').forEach(function (row) {
          if (!known[row.dataset.alert]) { row.classList.add('new'); added++; }
        });
        localTimes(fresh);
        current.replaceWith(document.adoptNode(fresh));
        if (freshStatus) {
          status.textContent = freshStatus.textContent.replace('Reload for new alerts.', '') +
            (added ? ' ' + added + ' new.' : '') + ' Live.';
        }
      })
      .catch(function () { status.textContent = 'Could not refresh; reload the page.'; })
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }

  var stream = new EventSource('/api/v1/alerts/stream');
  stream.addEventListener('open', function () {
    status.textContent = status.textContent.replace('Reload for new alerts.', 'Live: new alerts appear here.');
  });
  stream.addEventListener('alert', refresh);
  stream.addEventListener('lagged', refresh);
  stream.addEventListener('error', function () {
    if (stream.readyState === EventSource.CLOSED) status.textContent += ' Live updates stopped; reload the page.';
  });
})();
