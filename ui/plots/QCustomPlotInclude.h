#pragma once
// tinyml_core builds with QT_NO_KEYWORDS (public), but qcustomplot.h still spells
// `signals` and `foreach`: map them to the macro forms for this one header.

#ifdef QT_NO_KEYWORDS
#define signals Q_SIGNALS
#define slots Q_SLOTS
#define emit Q_EMIT
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef slots
#undef emit
#undef foreach
#else
#include <qcustomplot.h>
#endif
