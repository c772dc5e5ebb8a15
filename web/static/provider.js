/* The provider's board: when the board (refreshed by htmx) shows an order that was not there before, a banner
   says so in words and a short chime sounds (once the sound is turned on: browsers play sound only after a tap). */
(function () {
  var known = null;
  var alert = document.getElementById('new-order-alert');
  var chime = document.getElementById('chime');
  var sound = document.getElementById('sound-on');
  var ids = function () {
    var live = document.getElementById('p-live');
    return live && live.dataset.new ? live.dataset.new.split(' ') : [];
  };
  if (sound && chime) {
    sound.addEventListener('click', function () {
      chime.muted = true;
      chime.play().then(function () { chime.pause(); chime.currentTime = 0; chime.muted = false; }, function () {});
      sound.textContent = sound.dataset.on;
      sound.setAttribute('aria-pressed', 'true');
      document.body.dataset.sound = 'on';
    });
  }
  var look = function () {
    var now = ids();
    if (known !== null) {
      var fresh = now.filter(function (id) { return known.indexOf(id) < 0; });
      if (fresh.length && alert) {
        alert.textContent = '\u266A ' + alert.dataset.text;
        alert.hidden = false;
        document.body.dataset.alerts = String(Number(document.body.dataset.alerts || 0) + 1);
        if (chime) {
          chime.currentTime = 0;
          chime.play().then(function () {
            document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
          }, function () {});
        }
      }
    }
    known = now;
  };
  look();
  document.body.addEventListener('htmx:afterSwap', look);
})();
