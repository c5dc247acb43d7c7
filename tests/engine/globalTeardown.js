module.exports = require("./clusterLifetime").teardown;
