// The suggestions review (no dependencies):
//   a form with data-confirm asks before it is sent (a reply reaches the person and cannot be undone);
//   a textarea with maxlength shows how many characters are left.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  document.querySelectorAll("textarea[maxlength]").forEach(function (area) {
    const max = parseInt(area.getAttribute("maxlength"), 10);
    const counter = document.createElement("p");
    counter.className = "small muted sg-counter";
    area.insertAdjacentElement("afterend", counter);
    function update() {
      const left = max - area.value.length;
      const shown = String(left).replace(/\B(?=(\d{3})+(?!\d))/g, ".");  // 1.500, as the desk's messages write it
      counter.textContent = left === 1 ? "Queda 1 carácter." : "Quedan " + shown + " caracteres.";
    }
    area.addEventListener("input", update);
    update();
  });
})();
