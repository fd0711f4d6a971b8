/** The classifier head every zoo network ends with: global average pooling, then a dense layer giving logits. */
import * as tf from "@tensorflow/tfjs";
import { denseInitializer } from "./init.js";

/** Global average pool + dense(numClasses) with bias, no softmax (the model outputs logits). */
export function classifierHead(x: tf.SymbolicTensor, numClasses: number): tf.SymbolicTensor {
  const pooled = tf.layers.globalAveragePooling2d({ name: "pool" }).apply(x) as tf.SymbolicTensor;
  return tf.layers
    .dense({ units: numClasses, kernelInitializer: denseInitializer(), name: "fc" })
    .apply(pooled) as tf.SymbolicTensor;
}
