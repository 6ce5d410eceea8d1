/* BulkAssist: the grid and chart widgets' JavaScript, loaded when the page first shows one of their widgets.
 *
 * Voila loads every installed JupyterLab extension with the page, and ipydatagrid imports all of its code (and
 * bqplot's) at once: some 2 MB of scripts that the sign-in form and the first wizard step never use, parsed
 * before the form shows (and anywidget's, first used by the signed-in page). The launcher (bulkassist/dashboard/launch.py) keeps those extensions off the page
 * (VoilaConfiguration.extension_denylist) and names them in VoilaConfiguration.extension_config; this
 * extension registers their widget modules under the same names and versions, and loads them on first use:
 * their containers, as Voila would have loaded them, then the plugins of the one asked for, handed a registry
 * that collects what they register.
 *
 * Written by hand (no build step): a webpack module federation container is an object with `init(shareScope)`
 * and `get(module)`, set on window._JUPYTERLAB under the extension's name.
 */
(function () {
  "use strict";
  var NAME = "bulkassist-deferred-widgets";
  var labextensions = new URL("../../", document.currentScript.src);  // .../voila/labextensions/
  var shareScope = null;
  var loaded = null;
  var activated = {};

  function deferred() {
    var page = JSON.parse(document.getElementById("jupyter-config-data").textContent);
    return ((page.extensionConfig || {})[NAME] || {}).extensions || [];
  }

  function loadScript(url) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.onload = resolve;
      script.onerror = function () { reject(new Error(NAME + ": could not load " + url)); };
      script.async = true;
      script.src = url;
      document.head.appendChild(script);
    });
  }

  function newer(a, b) {
    var x = a.split(/[.+-]/).map(Number), y = b.split(/[.+-]/).map(Number);
    for (var i = 0; i < Math.max(x.length, y.length); i++) {
      if ((x[i] || 0) !== (y[i] || 0)) { return (x[i] || 0) > (y[i] || 0); }
    }
    return false;
  }

  // A shared module as the page already uses it: the loaded copy of a singleton, else the newest offered.
  function shared(name) {
    var offers = shareScope[name];
    var versions = Object.keys(offers);
    var pick = versions.filter(function (v) { return offers[v].loaded; })[0] ||
      versions.reduce(function (best, v) { return newer(v, best) ? v : best; });
    return offers[pick].get().then(function (factory) { return factory(); });
  }

  // The deferred extensions' containers, loaded and given the page's shared modules once, all together: their
  // scripts are small, and one may need another's shared module (ipydatagrid uses bqplot's).
  function containers(extensions) {
    if (loaded === null) {
      loaded = settled().then(function () { return Promise.all(extensions.map(async function (ext) {
        await loadScript(new URL(ext.name + "/" + ext.load, labextensions).href);
        await window._JUPYTERLAB[ext.name].init(shareScope);
      })); });
    }
    return loaded;
  }

  // Once the page has nothing else to do (at most a second): the first of these widgets comes with the page that
  // sign-in shows, and parsing their scripts then would hold up the wizard the user is waiting for.
  function settled() {
    return new Promise(function (resolve) {
      if (window.requestIdleCallback) { window.requestIdleCallback(resolve, { timeout: 1000 }); }
      else { setTimeout(resolve, 0); }
    });
  }

  // One extension's plugins, activated once, with a registry that collects the widget modules they register.
  function activate(app, registryToken, extensions, ext) {
    if (!activated[ext.name]) {
      activated[ext.name] = (async function () {
        await containers(extensions);
        var modules = {};
        var collector = { registerWidget: function (data) { modules[data.name] = data.exports; } };
        var module = (await window._JUPYTERLAB[ext.name].get(ext.extension))();
        var plugins = Object.prototype.hasOwnProperty.call(module, "__esModule") ? module.default : module;
        for (var plugin of [].concat(plugins)) {
          var services = await Promise.all([].concat(
            (plugin.requires || []).map(function (token) {
              return token === registryToken ? collector : app.resolveRequiredService(token);
            }),
            (plugin.optional || []).map(function (token) { return app.resolveOptionalService(token); })
          ));
          await plugin.activate.apply(plugin, [app].concat(services));
        }
        return modules;
      })();
    }
    return activated[ext.name];
  }

  async function exportsOf(app, registryToken, extensions, ext) {
    var found = (await activate(app, registryToken, extensions, ext))[ext.name];
    return typeof found === "function" ? found() : found;
  }

  async function extension() {
    var base = await shared("@jupyter-widgets/base");
    var extensions = deferred();
    var plugin = {
      id: NAME + ":plugin",
      requires: [base.IJupyterWidgetRegistry],
      autoStart: true,
      activate: function (app, registry) {
        extensions.forEach(function (ext) {
          registry.registerWidget({
            name: ext.name,
            version: ext.version,
            exports: function () { return exportsOf(app, base.IJupyterWidgetRegistry, extensions, ext); }
          });
        });
      }
    };
    return function () { return { __esModule: true, default: plugin }; };
  }

  window._JUPYTERLAB = window._JUPYTERLAB || {};
  window._JUPYTERLAB[NAME] = {
    init: function (scope) { shareScope = scope; return Promise.resolve(); },
    get: function (module) {
      if (module !== "./extension") { return Promise.reject(new Error(NAME + " has no module " + module)); }
      return extension();
    }
  };
})();
