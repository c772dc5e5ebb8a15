/* The volunteer's page: going on duty asks the phone where it is (the community and building picked in the form
   are used when it will not say), and each offer counts down the seconds left to answer. */
(function () {
  var form = document.getElementById('duty-form');
  if (form && navigator.geolocation) {
    form.addEventListener('submit', function (event) {
      var button = event.submitter;
      if (!button || button.value !== 'on' || form.lng.value) return;
      event.preventDefault();
      var note = document.getElementById('locating');
      if (note) note.hidden = false;
      var send = function () {
        var field = document.createElement('input');
        field.type = 'hidden'; field.name = 'on_duty'; field.value = 'on';
        form.appendChild(field);
        form.submit();
      };
      navigator.geolocation.getCurrentPosition(function (where) {
        form.lng.value = where.coords.longitude.toFixed(6);
        form.lat.value = where.coords.latitude.toFixed(6);
        send();
      }, send, {timeout: 8000, maximumAge: 60000});
    });
  }
  setInterval(function () {
    document.querySelectorAll('[data-left]').forEach(function (e) {
      if (!e.dataset.start) e.dataset.start = String(Date.now());
      var left = Math.max(0, Math.round(Number(e.dataset.left) - (Date.now() - Number(e.dataset.start)) / 1000));
      e.textContent = left > 0 ? e.dataset.template.replace('{s}', left) : e.dataset.closed;
    });
  }, 1000);
})();
