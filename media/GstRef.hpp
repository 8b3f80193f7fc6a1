#pragma once
// RAII for GLib/GStreamer references: unique_ptr aliases with stateless deleters. adopt() takes a
// reference the caller already owns (transfer full); refSink() takes a floating one and sinks it.
#include <glib-object.h>
#include <gst/gst.h>

#include <memory>
#include <string>

namespace mcu::media {

struct GObjectUnref {
  void operator()(gpointer p) const {
    if (p) g_object_unref(p);
  }
};
struct GstObjectUnref {
  void operator()(gpointer p) const {
    if (p) gst_object_unref(p);
  }
};
struct GstCapsUnref {
  void operator()(GstCaps* c) const {
    if (c) gst_caps_unref(c);
  }
};
struct GstPromiseUnref {
  void operator()(GstPromise* p) const {
    if (p) gst_promise_unref(p);
  }
};
struct GstStructureFree {
  void operator()(GstStructure* s) const {
    if (s) gst_structure_free(s);
  }
};
struct GstMessageUnref {
  void operator()(GstMessage* m) const {
    if (m) gst_message_unref(m);
  }
};
struct GFree {
  void operator()(gpointer p) const { g_free(p); }
};
struct GErrorFree {
  void operator()(GError* e) const {
    if (e) g_error_free(e);
  }
};

template <typename T>
using GstRef = std::unique_ptr<T, GstObjectUnref>;
using GstElementRef = GstRef<GstElement>;
using GstPadRef = GstRef<GstPad>;
using GstBusRef = GstRef<GstBus>;
using GstCapsRef = std::unique_ptr<GstCaps, GstCapsUnref>;
using GstPromiseRef = std::unique_ptr<GstPromise, GstPromiseUnref>;
using GstMessagePtr = std::unique_ptr<GstMessage, GstMessageUnref>;
using GCharPtr = std::unique_ptr<gchar, GFree>;
using GErrorPtr = std::unique_ptr<GError, GErrorFree>;

// Takes ownership of a reference the caller already holds.
template <typename T>
GstRef<T> adopt(T* object) {
  return GstRef<T>(object);
}
// Sinks a floating reference (fresh elements, pads) and owns the result.
template <typename T>
GstRef<T> refSink(T* object) {
  return GstRef<T>(static_cast<T*>(gst_object_ref_sink(object)));
}
// Adds a new reference to an object the caller borrows.
template <typename T>
GstRef<T> ref(T* object) {
  return GstRef<T>(static_cast<T*>(gst_object_ref(object)));
}

inline GstCapsRef capsFromString(const std::string& s) {
  return GstCapsRef(gst_caps_from_string(s.c_str()));
}

// Creates an element or throws std::runtime_error naming the missing factory.
GstElement* makeElement(const char* factory, const std::string& name);

}  // namespace mcu::media
