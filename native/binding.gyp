{
  "targets": [
    {
      "target_name": "senet_onednn",
      "sources": [
        "src/addon.cc",
        "src/common.cc",
        "src/conv.cc",
        "src/matmul.cc",
        "src/pool.cc",
        "src/bnorm.cc",
        "src/elementwise.cc",
        "src/attention.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS_OFF", "NODE_ADDON_API_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fopenmp"],
      "libraries": ["-ldnnl", "-fopenmp"]
    }
  ]
}
