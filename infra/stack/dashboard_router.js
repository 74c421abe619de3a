// Viewer-request function of the dashboard's CloudFront distribution
// (runtime cloudfront-js-2.0). It routes as the single binary's dashboard
// handler does (web/handler.go):
//   - the old addresses /api-keys[/...] answer 308 to the same page under
//     /dashboard/organizations/api-keys, the query kept;
//   - the client-side router's paths (/, /sign-in, /dashboard,
//     /dashboard/...) are served /index.html, so a deep link or a reload
//     works;
//   - anything else goes to the bucket as asked: a missing asset stays a
//     403/404 and is never answered with index.html.
// Paths are cleaned as Go's path.Clean does for the two checks (repeated
// and trailing slashes); a path with a dot segment is left alone.
var appPrefix = '/dashboard/organizations/api-keys';
var legacyPrefix = '/api-keys';

function clean(uri) {
  var parts = uri.split('/');
  var out = [];
  for (var i = 0; i < parts.length; i++) {
    if (parts[i] === '.' || parts[i] === '..') {
      return null;
    }
    if (parts[i] !== '') {
      out.push(parts[i]);
    }
  }
  return '/' + out.join('/');
}

function query(qs) {
  var pairs = [];
  for (var name in qs) {
    var v = qs[name];
    if (v.multiValue) {
      for (var i = 0; i < v.multiValue.length; i++) {
        pairs.push(name + '=' + v.multiValue[i].value);
      }
    } else {
      pairs.push(name + '=' + v.value);
    }
  }
  return pairs.length ? '?' + pairs.join('&') : '';
}

function isAppPath(p) {
  return p === '/' || p === '/sign-in' || p === '/dashboard' || p.indexOf('/dashboard/') === 0;
}

function handler(event) {
  var request = event.request;
  var p = clean(request.uri);
  if (p === null) {
    return request;
  }
  if (p === legacyPrefix || p.indexOf(legacyPrefix + '/') === 0) {
    return {
      statusCode: 308,
      statusDescription: 'Permanent Redirect',
      headers: {
        location: { value: appPrefix + p.substring(legacyPrefix.length) + query(request.querystring || {}) },
        'cache-control': { value: 'no-cache' }
      }
    };
  }
  if (isAppPath(p)) {
    request.uri = '/index.html';
  }
  return request;
}
