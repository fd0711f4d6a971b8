// danfojs-node only calls tf.tensor/scalar/moments/data; the pure-JS tfjs provides all of them.
module.exports = require("@tensorflow/tfjs");
