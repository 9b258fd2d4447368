// Asks before destructive forms (class "confirm", text in data-confirm). No inline script: the
// Content-Security-Policy allows scripts from /static only.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.classList && form.classList.contains("confirm")) {
    if (!window.confirm(form.getAttribute("data-confirm") || "Are you sure?")) {
      event.preventDefault();
    }
  }
});
