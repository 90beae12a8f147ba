// Empty on purpose: see package.json.
module.exports = {};
