// Jest resolves with the `require` condition. Packages that export only an `import` condition (the
// @kubernetes-models family, is-cidr and friends) are retried with `import`; ts-jest then turns them into CommonJS.
module.exports = (request, options) => {
  try {
    return options.defaultResolver(request, options);
  } catch (error) {
    const esmOnly = error && /exports|ERR_PACKAGE_PATH_NOT_EXPORTED|Cannot find module/.test(String(error.message));
    if (!esmOnly) throw error;
    return options.defaultResolver(request, { ...options, conditions: ['import', 'node', 'default'] });
  }
};
