// Starts GraphiQL (served by coalition from its binary, see internal/server/graphiql) with
// the session token the sign-in page stored in this browser. An external file, so the
// page's Content-Security-Policy needs no inline script.
(function () {
  var root = document.getElementById("graphiql");
  var token = null;
  try { token = localStorage.getItem("coalition.token"); } catch (e) {}
  var headers = token ? { Authorization: "Bearer " + token } : {};
  var fetcher = GraphiQL.createFetcher({ url: root.getAttribute("data-endpoint"), headers: headers });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: "# Signed in: " + (token ? "yes" : "no — open the link from your sign-in email first") + "\n{\n  me { id email name roles }\n}\n",
    })
  );
})();
