// Evidence quotes and transcript lines seek the recording: <a data-seek="SECONDS">.
(function () {
  var audio = document.getElementById("recording");
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-seek]");
    if (!link || !audio) { return; }
    event.preventDefault();
    audio.currentTime = parseFloat(link.getAttribute("data-seek")) || 0;
    var playing = audio.play();
    if (playing && playing.catch) { playing.catch(function () {}); }
    document.querySelectorAll(".is-current").forEach(function (el) { el.classList.remove("is-current"); });
    link.classList.add("is-current");
  });
})();
