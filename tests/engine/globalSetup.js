module.exports = require("./clusterLifetime").setup;
