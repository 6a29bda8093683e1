// Small enhancements only; every page works without them.
// "Copy as cURL" buttons, and period selects that apply on change.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button.copy");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent).then(function () {
    var label = button.textContent;
    button.textContent = button.getAttribute("data-done") || label;
    setTimeout(function () { button.textContent = label; }, 1500);
  });
});
document.addEventListener("change", function (event) {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
});
