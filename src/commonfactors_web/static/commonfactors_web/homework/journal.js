/* The client's journal: saved as they type, and never lost.
 *
 * - Every keystroke is copied at once to this device's localStorage (a draft per entry).
 * - After a pause in typing (1 s; at most 10 s after the first unsaved change) the entry is
 *   posted to the autosave endpoint (JSON back, CSRF token in a header). Once the server has
 *   exactly what the draft holds, the draft is removed: the device keeps only what the server
 *   does not have yet.
 * - A new entry gets its address once first saved (history.replaceState), so a reload opens
 *   the saved entry; a draft that had not reached the server is restored after a reload.
 * - Without JavaScript the page is a plain form with a Save button.
 */
(function () {
  "use strict";

  var PREFIX = "cf-journal:";

  function openStorage() {
    try {
      var s = window.localStorage;
      s.setItem(PREFIX + "probe", "1");
      s.removeItem(PREFIX + "probe");
      return s;
    } catch (e) {
      return null; // private mode or storage off: autosave still works
    }
  }

  var store = openStorage();

  function read(name) {
    if (!store) return null;
    try {
      return JSON.parse(store.getItem(name));
    } catch (e) {
      return null;
    }
  }

  function write(name, value) {
    if (!store) return;
    try {
      store.setItem(name, JSON.stringify(value));
    } catch (e) {
      /* storage full: the server copy still counts */
    }
  }

  function drop(name) {
    if (store) store.removeItem(name);
  }

  /* On the client's page after a plain Save: that entry is safe on the server. */
  function forgetSaved() {
    var marker = document.getElementById("hw-journal-saved");
    if (!marker) return;
    var base = PREFIX + marker.getAttribute("data-scope") + ":";
    var key = marker.getAttribute("data-key");
    drop(base + key);
    if (read(base + "pending-new") === key) drop(base + "pending-new");
  }

  function editor(form) {
    var scope = form.getAttribute("data-scope");
    var url = form.getAttribute("data-autosave-url");
    var isNew = form.getAttribute("data-new") === "1";
    var keyInput = form.querySelector('input[name="key"]');
    var textarea = form.querySelector('textarea[name="text"]');
    var status = document.getElementById("journal-status");
    var csrf = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
    var timer = null;
    var retry = null;
    var firstChange = 0;
    var inFlight = false;
    var again = false;
    var submitting = false;

    function shared() {
      var r = form.querySelector('input[name="shared"]:checked');
      return r ? r.value === "1" : false;
    }

    function setShared(value) {
      var r = form.querySelector('input[name="shared"][value="' + (value ? "1" : "0") + '"]');
      if (r) r.checked = true;
    }

    var lastSaved = { text: isNew ? "" : textarea.value, shared: isNew ? false : shared() };

    function draftName() {
      return PREFIX + scope + ":" + keyInput.value;
    }

    function pendingName() {
      return PREFIX + scope + ":pending-new";
    }

    function say(text, isError) {
      status.textContent = text;
      status.classList.toggle("hw-status-error", !!isError);
    }

    function dirty() {
      return textarea.value !== lastSaved.text || shared() !== lastSaved.shared;
    }

    function remember() {
      write(draftName(), { text: textarea.value, shared: shared(), at: Date.now() });
      if (isNew) write(pendingName(), keyInput.value);
    }

    function schedule(delay) {
      if (!firstChange) firstChange = Date.now();
      clearTimeout(timer);
      var wait = Math.max(0, Math.min(delay, firstChange + 10000 - Date.now()));
      timer = setTimeout(save, wait);
    }

    function body() {
      var data = new URLSearchParams();
      data.set("key", keyInput.value);
      data.set("text", textarea.value);
      data.set("shared", shared() ? "1" : "0");
      data.set("csrfmiddlewaretoken", csrf);
      return data;
    }

    function post(keepalive) {
      return fetch(url, {
        method: "POST",
        body: body(),
        credentials: "same-origin",
        keepalive: !!keepalive,
        headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      });
    }

    function saved(sent, answer) {
      lastSaved = sent;
      firstChange = 0;
      if (!answer.saved) {
        say("Nothing to save yet.");
        return;
      }
      var draft = read(draftName());
      if (draft && draft.text === sent.text && draft.shared === sent.shared) drop(draftName());
      if (read(pendingName()) === keyInput.value) drop(pendingName());
      if (isNew) {
        isNew = false;
        form.removeAttribute("data-new");
        form.setAttribute("action", answer.edit_url);
        window.history.replaceState(null, "", answer.edit_url);
      }
      say(
        (sent.shared ? "Saved and shared with your therapist at " : "Saved (private) at ") +
          answer.updated_at +
          "."
      );
    }

    function save() {
      clearTimeout(timer);
      timer = null;
      clearTimeout(retry);
      if (inFlight) {
        again = true;
        return;
      }
      if (!dirty()) {
        firstChange = 0;
        return;
      }
      var sent = { text: textarea.value, shared: shared() };
      inFlight = true;
      say("Saving…");
      post(false)
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (type.indexOf("application/json") === -1) {
            throw { status: response.status, message: "" };
          }
          return response.json().then(function (answer) {
            if (!response.ok) throw { status: response.status, message: answer.error || "" };
            saved(sent, answer);
          });
        })
        .catch(function (problem) {
          var code = problem && problem.status;
          if (code && code < 500 && code !== 429) {
            say(
              (problem.message || "Your entry could not be saved.") +
                " What you wrote is kept on this device.",
              true
            );
            return;
          }
          say("Not saved yet (no connection?). What you wrote is kept on this device; trying again…", true);
          retry = setTimeout(save, 5000);
        })
        .then(function () {
          inFlight = false;
          if (again) {
            again = false;
            save();
          }
        });
    }

    function restore() {
      var draft = null;
      if (isNew) {
        var pending = read(pendingName());
        var old = pending ? read(PREFIX + scope + ":" + pending) : null;
        if (old && old.text) {
          keyInput.value = pending; // the same entry: saving it again never makes a copy
          draft = old;
        }
      } else {
        var mine = read(draftName());
        if (mine && (mine.text !== textarea.value || mine.shared !== shared())) draft = mine;
        else if (mine) drop(draftName());
      }
      if (draft) {
        textarea.value = draft.text;
        setShared(draft.shared);
        say("Restored what you were writing. Saving it now…");
        schedule(0);
      } else {
        say("Your entry is saved as you type.");
      }
    }

    textarea.addEventListener("input", function () {
      remember();
      schedule(1000);
    });
    Array.prototype.forEach.call(form.querySelectorAll('input[name="shared"]'), function (radio) {
      radio.addEventListener("change", function () {
        remember();
        schedule(0);
      });
    });
    form.addEventListener("submit", function () {
      submitting = true; // the form posts itself; the draft goes once the page says saved
      clearTimeout(timer);
    });
    window.addEventListener("pagehide", function () {
      if (!submitting && dirty()) post(true).catch(function () {});
    });
    restore();
  }

  function start() {
    forgetSaved();
    var form = document.getElementById("journal-form");
    if (form) editor(form);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
